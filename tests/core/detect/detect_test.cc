// The detection core without audio files: labels, file names, softmax, clip statistics, health.
#include <cmath>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "micronet_ad/detector.h"

namespace micronet_ad {
namespace {

std::string id_of(const char* path) {
  char id[8] = "?";
  const Status s = machine_id_from_file_name(path, id, sizeof id);
  return s ? std::string(id) : std::string("error: ") + s.message();
}

TEST(Labels, MachineIdsMapToOutputsZeroToThree) {
  const char* ids[] = {"00", "02", "04", "06"};
  for (int i = 0; i < kNumMachineIds; ++i) {
    int index = -1;
    ASSERT_TRUE(output_of_machine_id(ids[i], &index)) << ids[i];
    EXPECT_EQ(index, i);
    EXPECT_STREQ(machine_id_of_output(i), ids[i]);
    ASSERT_TRUE(output_of_machine_id((std::string("id_") + ids[i]).c_str(), &index));
    EXPECT_EQ(index, i);
  }
  EXPECT_EQ(machine_id_of_output(4), nullptr);
  EXPECT_EQ(machine_id_of_output(-1), nullptr);
}

TEST(Labels, UnknownIdIsAnErrorListingTheKnownOnes) {
  for (const char* id : {"01", "03", "05", "0", "000", "", "id_01"}) {
    int index = 7;
    const Status s = output_of_machine_id(id, &index);
    ASSERT_FALSE(s) << id;
    EXPECT_NE(std::strstr(s.message(), "00, 02, 04, 06"), nullptr) << s.message();
    EXPECT_EQ(index, 7);
  }
}

TEST(Labels, MachineIdFromDcaseFileNames) {
  EXPECT_EQ(id_of("normal_id_00_00000000.wav"), "00");
  EXPECT_EQ(id_of("/data/slider/test/anomaly_id_06_00000123.wav"), "06");
  EXPECT_EQ(id_of("x/normal_id_01_00000000.wav"), "01");     // parsed; unknown to the model later
  EXPECT_EQ(id_of("kit_random_id_00_000000.wav"), "00");     // the kit's own sample
  EXPECT_EQ(id_of("/id_02_dir/normal_id_04_1.flac"), "04");  // directories are ignored
  for (const char* bad : {"clip.wav", "normal_id__0.wav", "normal_idx_00_0.wav", "normal_id_0a_0.wav", "", "id_"}) {
    EXPECT_NE(id_of(bad).find("error: cannot read a machine ID"), std::string::npos) << bad << " → " << id_of(bad);
  }
  char small[2];
  EXPECT_FALSE(machine_id_from_file_name("normal_id_00_0.wav", small, sizeof small));
}

TEST(Scores, SoftmaxOfEqualLogitsIsUniform) {
  const std::int8_t logits[kNumOutputs] = {5, 5, 5, 5, 5, 5, 5, 5};
  const WindowScore s = score_window(logits, {0.5f, 5}, 2);
  for (double p : s.probabilities) EXPECT_DOUBLE_EQ(p, 0.125);
  EXPECT_DOUBLE_EQ(s[ScoreMethod::kNegSoftmax], -0.125);
  EXPECT_NEAR(s[ScoreMethod::kNll], std::log(8.0), 1e-15);
}

TEST(Scores, SoftmaxDequantizesAndMatchesTheDefinition) {
  const std::int8_t logits[kNumOutputs] = {-30, 10, -128, 127, 0, -1, 55, -77};
  const OutputQuantization q{0.0488911457f, -30};  // ad_medium's output params
  double expected[kNumOutputs], sum = 0.0;
  for (int i = 0; i < kNumOutputs; ++i) sum += expected[i] = std::exp(double(q.scale) * (logits[i] - q.zero_point));
  const WindowScore s = score_window(logits, q, 1);
  for (int i = 0; i < kNumOutputs; ++i) EXPECT_NEAR(s.probabilities[i], expected[i] / sum, 1e-15) << i;
  EXPECT_NEAR(s[ScoreMethod::kNegSoftmax], -expected[1] / sum, 1e-15);
  EXPECT_NEAR(s[ScoreMethod::kNll], -std::log(expected[1] / sum), 1e-12);
}

TEST(Scores, SoftmaxIsStableForHugeLogits) {
  // A naive exp() overflows at scale 10 (x up to 2550): the max-shifted softmax must not.
  const std::int8_t logits[kNumOutputs] = {127, -128, 127, 0, 0, 0, 0, 0};
  const WindowScore s = score_window(logits, {10.0f, 0}, 0);
  EXPECT_DOUBLE_EQ(s.probabilities[0], 0.5);
  EXPECT_DOUBLE_EQ(s.probabilities[2], 0.5);
  EXPECT_EQ(s.probabilities[1], 0.0);
  EXPECT_NEAR(s[ScoreMethod::kNll], std::log(2.0), 1e-15);
  const WindowScore low = score_window(logits, {10.0f, 0}, 3);
  EXPECT_EQ(low.probabilities[3], 0.0);  // e^-1270 underflows: nll is +inf, never NaN
  EXPECT_TRUE(std::isinf(low[ScoreMethod::kNll]) && low[ScoreMethod::kNll] > 0);
}

void add(ClipAccumulator* acc, std::initializer_list<int> values, OutputQuantization q, int id) {
  std::int8_t logits[kNumOutputs];
  int i = 0;
  for (int v : values) logits[i++] = static_cast<std::int8_t>(v);
  acc->add(logits, score_window(logits, q, id));
}

TEST(Clip, MeansPredictionAndRanges) {
  const OutputQuantization q{1.0f, 0};
  ClipAccumulator acc;
  EXPECT_EQ(acc.result().windows, 0);
  EXPECT_EQ(acc.result().predicted_output, -1);
  add(&acc, {0, 3, 0, 0, 0, 0, 0, 0}, q, 0);
  add(&acc, {0, 1, 0, 0, 0, 0, 0, 0}, q, 0);
  const ClipScore r = acc.result();
  ASSERT_EQ(r.windows, 2);
  const double p0a = 1.0 / (7.0 + std::exp(3.0)), p0b = 1.0 / (7.0 + std::exp(1.0));
  EXPECT_NEAR(r[ScoreMethod::kNegSoftmax], -(p0a + p0b) / 2, 1e-15);
  EXPECT_NEAR(r[ScoreMethod::kNll], (-std::log(p0a) - std::log(p0b)) / 2, 1e-14);  // mean of per-window −log p
  EXPECT_EQ(r.predicted_output, 1);
  EXPECT_EQ(r.output_min[1], 1);
  EXPECT_EQ(r.output_max[1], 3);
  EXPECT_EQ(r.max_output_range(), 2);
  acc.reset();
  EXPECT_EQ(acc.result().windows, 0);
}

TEST(Clip, PredictionIgnoresUnusedOutputs) {
  ClipAccumulator acc;
  add(&acc, {1, 2, 0, 0, 100, 100, 100, 100}, {1.0f, 0}, 0);
  EXPECT_EQ(acc.result().predicted_output, 1);  // outputs 4..7 hold more mass but name no machine
}

TEST(Clip, DegenerateNeedsFourWindowsAndAtMostTwoSteps) {
  const OutputQuantization q{0.05f, 0};
  ClipAccumulator acc;
  for (int w = 0; w < 3; ++w) add(&acc, {10 + w, 0, 0, 0, 0, 0, 0, -5}, q, 0);
  EXPECT_FALSE(acc.result().degenerate());  // 3 windows say too little
  add(&acc, {11, 0, 0, 0, 0, 0, 0, -3}, q, 0);
  EXPECT_TRUE(acc.result().degenerate());  // 4 windows, ranges 2 and 2
  add(&acc, {13, 0, 0, 0, 0, 0, 0, -5}, q, 0);
  EXPECT_EQ(acc.result().max_output_range(), 3);
  EXPECT_FALSE(acc.result().degenerate());
}

}  // namespace
}  // namespace micronet_ad
