// Scores of real clips against golden/frontend/clip_slider_*/meta.json, the golden int8 outputs,
// Arm's published kit result and the health check on all three models.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "support/frontend.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::kModes;
using test::Mode;

host::ClipResult score_clip(const std::string& model, const std::vector<float>& clip, Framing framing, Resize resize,
                            std::size_t chunk = 0) {
  const auto file = host::load_model_file(test::model_path(model));
  host::ClipScorer scorer(file->model, framing, resize);
  return scorer.score(clip.data(), clip.size(), 0, chunk);
}

nlohmann::json meta(const std::string& clip) {
  const auto bytes = test::shared_bytes(test::golden_clip_dir(clip) + "meta.json");
  return nlohmann::json::parse(bytes.begin(), bytes.end());
}

class GoldenClip : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenClip, ScoresAndOutputsMatchMetaJsonInAllModes) {
  const std::string clip = GetParam();
  const auto samples = test::load_clip(clip);
  const nlohmann::json m = meta(clip);
  for (const Mode& mode : kModes) {
    for (const char* model : {"small", "medium"}) {
      const std::string key = std::string(mode.name) + "/ad_" + model;
      SCOPED_TRACE(clip + " " + key);
      const host::ClipResult r = score_clip(model, samples, mode.framing, mode.resize);
      ASSERT_EQ(r.clip.windows, 13);
      EXPECT_NEAR(r.clip[ScoreMethod::kNegSoftmax], m["scores"][key]["score_neg_softmax"].get<double>(), 1e-6);
      EXPECT_NEAR(r.clip[ScoreMethod::kNll], m["scores"][key]["nll"].get<double>(), 1e-6);
      const auto golden =
          test::shared_int8(test::golden_clip_dir(clip) + mode.name + "_output_ad_" + model + "_13x8.i8");
      ASSERT_EQ(golden.size(), 13u * kNumOutputs);
      for (std::size_t w = 0; w < 13; ++w) {
        for (int i = 0; i < kNumOutputs; ++i) ASSERT_EQ(r.outputs[w][i], golden[w * kNumOutputs + i]) << w << "," << i;
      }
    }
  }
}

// meta.json's "nll" is the mean of per-window −log p[id], not −log of the mean p: on the golden
// outputs the first matches to 1e-7 and the second is off by 0.44 (anomaly) and 0.0028 (normal).
TEST_P(GoldenClip, NllIsTheMeanOfPerWindowNegativeLogLikelihoods) {
  const std::string clip = GetParam();
  const auto golden = test::shared_int8(test::golden_clip_dir(clip) + "centered-average_output_ad_medium_13x8.i8");
  const double expected = meta(clip)["scores"]["centered-average/ad_medium"]["nll"].get<double>();
  const OutputQuantization q{0.0488911457f, -30};
  double mean_nll = 0.0, mean_p = 0.0;
  for (std::size_t w = 0; w < 13; ++w) {
    const WindowScore s = score_window(golden.data() + w * kNumOutputs, q, 0);
    mean_nll += s[ScoreMethod::kNll] / 13;
    mean_p += s.probabilities[0] / 13;
  }
  EXPECT_NEAR(mean_nll, expected, 1e-6);
  EXPECT_GT(std::fabs(-std::log(mean_p) - expected), 1e-4);  // the other definition does not match
}

TEST_P(GoldenClip, ChunkedStreamingGivesTheSameScores) {
  const auto samples = test::load_clip(GetParam());
  const host::ClipResult whole = score_clip("medium", samples, Framing::kCentered, Resize::kAverage);
  for (std::size_t chunk : {1000u, 4097u, 33280u}) {
    const host::ClipResult r = score_clip("medium", samples, Framing::kCentered, Resize::kAverage, chunk);
    EXPECT_EQ(r.window_scores_of(ScoreMethod::kNegSoftmax), whole.window_scores_of(ScoreMethod::kNegSoftmax)) << chunk;
    EXPECT_EQ(r.window_scores_of(ScoreMethod::kNll), whole.window_scores_of(ScoreMethod::kNll)) << chunk;
    EXPECT_EQ(r.embeddings, whole.embeddings) << chunk;
    EXPECT_EQ(r.clip[ScoreMethod::kNll], whole.clip[ScoreMethod::kNll]) << chunk;
  }
}

// ad_small and ad_large barely respond to their input (docs/models.md); ad_medium does.
TEST_P(GoldenClip, HealthFlagsAdSmallAndAdLargeNotAdMedium) {
  const auto samples = test::load_clip(GetParam());
  for (const char* model : {"small", "medium", "large"}) {
    const host::ClipResult r = score_clip(model, samples, Framing::kCentered, Resize::kAverage);
    std::printf("%s ad_%s: max output range %d steps\n", GetParam(), model, r.clip.max_output_range());
    EXPECT_EQ(r.clip.degenerate(), std::string(model) != "medium") << model;
  }
}

INSTANTIATE_TEST_SUITE_P(Slider, GoldenClip, ::testing::ValuesIn(test::kClips));

// Arm's published kit log: anomaly_id_00_00000000.wav, ad_medium, 13 inferences → −0.024493.
TEST(PublishedKit, AnomalyClipScore) {
  const host::ClipResult r = score_clip("medium", test::load_clip("anomaly"), Framing::kKit, Resize::kDecimate);
  EXPECT_EQ(r.clip.windows, 13);
  EXPECT_NEAR(r.clip[ScoreMethod::kNegSoftmax], -0.024493, 5e-6);
}

// The kit's own 8 kHz, 8-bit sample (3,000 samples, near silence): the kit reports −0.883147
// (ad_medium on Ethos-U, after its own linear resampler and zero padding to one window). We
// resample with soxr, whose output differs sample by sample from the kit's, so exact equality is
// not expected. Measured: −0.894309. One window means no averaging: one ad_medium output step
// (0.049 in logit) moves p ≈ 0.9 by ≈ 0.004, so the 0.011 gap is 2–3 output steps. The bound
// allows ~6 steps and, more to the point, both sides call the clip normal (kit threshold −0.8).
TEST(PublishedKit, KitOwnSampleScoresNearItsLog) {
  const host::Audio audio = host::load_audio(host::shared_path("data/kit_random_id_00_000000.wav"));
  EXPECT_EQ(audio.source_rate, 8000);
  const host::ClipResult r = score_clip("medium", audio.samples, Framing::kKit, Resize::kDecimate);
  std::printf("kit sample: %.6f over %lld window(s) (kit log: -0.883147)\n", r.clip[ScoreMethod::kNegSoftmax],
              static_cast<long long>(r.clip.windows));
  EXPECT_EQ(r.clip.windows, 1);
  EXPECT_NEAR(r.clip[ScoreMethod::kNegSoftmax], -0.883147, 0.03);
  EXPECT_LT(r.clip[ScoreMethod::kNegSoftmax], -0.8);
}

}  // namespace
}  // namespace micronet_ad
