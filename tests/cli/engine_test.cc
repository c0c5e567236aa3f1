// The engine commands as users run them: inspect and infer, including their failures.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/io/file.h"
#include "host/io/npy.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::run_cli;

TEST(CliInspect, JsonDescribesAdSmall) {
  const auto r = run_cli("inspect --json " + test::model_path("small"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total_macs"].get<long long>(), 18740192);
  EXPECT_EQ(j["parameters"].get<long long>(), 194968);
  EXPECT_EQ(j["arena_bytes"].get<long long>(), 98304);
  // Band fusion: 18432 + 7872 + 41984 (see TableShowsTheBandFusionArena), 30,016 B less memory.
  EXPECT_EQ(j["arena_bytes_band_fusion"].get<long long>(), 68288);
  EXPECT_EQ(j["interpreter_memory_bytes"].get<long long>() - j["interpreter_memory_bytes_band_fusion"].get<long long>(),
            98304 - 68288);
  ASSERT_EQ(j["operators"].size(), 12u);
  EXPECT_EQ(j["operators"][1]["type"], "DEPTHWISE_CONV_2D");
  EXPECT_EQ(j["operators"][1]["stride"], "2x2");
  EXPECT_EQ(j["operators"][1]["output"], nlohmann::json({1, 16, 16, 72}));
  EXPECT_EQ(j["operators"][0]["activation"], "RELU6");
  EXPECT_EQ(j["operators"][9]["type"], "AVERAGE_POOL_2D");
  EXPECT_EQ(j["operators"][9]["padding"], "VALID");
  EXPECT_NEAR(j["input"]["quantization"]["scale"].get<double>(), 0.191926181, 1e-9);
  EXPECT_EQ(j["output"]["quantization"]["zero_point"].get<int>(), 29);
}

TEST(CliInspect, TableShowsTheBandFusionArena) {
  // Band fusion pairs ops 0+1, 2+3 and 4+5; the peak is then pair 2+3: op 2's input 16·16·72,
  // a 3-row band of 16·164 and op 3's output 16·16·164 = 18432 + 7872 + 41984.
  const auto r = run_cli("inspect small");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("arena bytes      98304 (layer-at-a-time lower bound 98304); with band fusion 68288"),
            std::string::npos)
      << r.out;
}

TEST(CliInspect, TableNamesModelByShortName) {
  const auto r = run_cli("inspect medium");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("total MACs       62346720"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arena bytes      245760"), std::string::npos) << r.out;
  // Ops 0+1 in row bands; ops 4 and 5 stay whole, each with two 16·16·276 tensors alive.
  EXPECT_NE(r.out.find("with band fusion 141312"), std::string::npos) << r.out;
}

TEST(CliInfer, RawGoldenInputsGiveGoldenOutputs) {
  const std::string out = test::temp_dir() + "/small_out.i8";
  const auto r = run_cli("infer --model " + test::model_path("small") + " --input " +
                         host::shared_path("golden/engine/inputs_256x1024.i8") + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::slurp(out), test::slurp(host::shared_path("golden/engine/ad_small_outputs_256x8.i8")));
}

TEST(CliInfer, MlZooNpyPairForAdMedium) {
  const std::string out = test::temp_dir() + "/ofm.npy";
  const auto r = run_cli("infer --model medium --input " + host::shared_path("golden/engine/ad_medium_mlzoo_ifm0.npy") +
                         " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const host::NpyArray got = host::read_npy(out);
  const host::NpyArray want = host::read_npy(host::shared_path("golden/engine/ad_medium_mlzoo_ofm0.npy"));
  EXPECT_EQ(got.dtype, "i1");
  EXPECT_EQ(got.shape, (std::vector<std::int64_t>{1, 8}));
  EXPECT_EQ(got.data, want.data);
}

TEST(CliInfer, TwoDimensionalNpyAndBatchedNpy) {
  const auto inputs = test::shared_bytes("golden/engine/inputs_256x1024.i8");
  const auto golden = test::shared_bytes("golden/engine/ad_large_outputs_256x8.i8");
  const std::string one = test::temp_dir() + "/one.npy", batch = test::temp_dir() + "/batch.npy";
  host::write_npy(one, "i1", {32, 32}, inputs.data() + 5 * 1024, 1024);
  host::write_npy(batch, "i1", {3, 32, 32, 1}, inputs.data(), 3 * 1024);
  const std::string out1 = test::temp_dir() + "/one_out.npy", out3 = test::temp_dir() + "/batch_out.npy";
  ASSERT_EQ(run_cli("infer --model large --input " + one + " --output " + out1).exit_code, 0);
  ASSERT_EQ(run_cli("infer --model large --input " + batch + " --output " + out3).exit_code, 0);
  EXPECT_EQ(host::read_npy(out1).data, std::vector<std::uint8_t>(golden.begin() + 40, golden.begin() + 48));
  const host::NpyArray b = host::read_npy(out3);
  EXPECT_EQ(b.shape, (std::vector<std::int64_t>{3, 8}));
  EXPECT_EQ(b.data, std::vector<std::uint8_t>(golden.begin(), golden.begin() + 24));
}

TEST(CliInfer, BadInputsFailClearly) {
  const std::string dir = test::temp_dir();
  const std::vector<std::uint8_t> odd(1000, 1);
  host::write_file(dir + "/odd.i8", odd.data(), odd.size());
  const float f[1024] = {};
  host::write_npy(dir + "/float.npy", "f4", {32, 32}, f, sizeof(f));
  const std::vector<std::uint8_t> one_input(1024, 1);
  host::write_npy(dir + "/shape.npy", "i1", {16, 64}, one_input.data(), one_input.size());
  host::write_file(dir + "/fake.tflite", "hello, this is not a model at all", 33);
  struct Case {
    std::string args, message;
    int code;
  };
  const std::string model = " --model " + test::model_path("small");
  const std::vector<Case> cases = {
      {"infer" + model + " --input " + dir + "/odd.i8 --output " + dir + "/o", "not a whole number of 1024-byte", 1},
      {"infer" + model + " --input " + dir + "/float.npy --output " + dir + "/o.npy", "expected int8", 1},
      {"infer" + model + " --input " + dir + "/shape.npy --output " + dir + "/o.npy", "expected [N,32,32,1]", 1},
      {"infer" + model + " --input " + dir + "/missing.npy --output " + dir + "/o.npy", "cannot open", 1},
      {"infer --model " + dir + "/fake.tflite --input " + dir + "/odd.i8 --output " + dir + "/o", "not a TFLite model",
       1},
      {"inspect " + dir, "not a regular file", 1},
      {"infer --output y", "--input", 2},
      {"frobnicate", "frobnicate", 2},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\nstderr: " << r.err;
  }
}

}  // namespace
}  // namespace micronet_ad
