// The infer command as a function (no subprocess): its flags parse into InferOptions, and the
// outputs it writes (.npy or raw) are the model's outputs for each input, as an Engine with the
// reference kernels computes them.
#include "cmd_infer.h"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "host/io/npy.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

constexpr std::size_t kInputBytes = 32 * 32, kOutputBytes = 8;

// The first `n` of the shared engine inputs (random int8 tensors).
std::vector<std::int8_t> engine_inputs(std::size_t n) {
  std::vector<std::int8_t> all = test::shared_int8("golden/engine/inputs_256x1024.i8");
  all.resize(n * kInputBytes);
  return all;
}

// Each input's outputs from an Engine of its own, one after the other.
std::vector<std::int8_t> reference_outputs(const std::string& model, const std::vector<std::int8_t>& inputs) {
  const auto file = host::load_model_file(model);
  host::Engine engine(file->model, KernelSet::kReference);
  std::vector<std::int8_t> outputs;
  for (std::size_t at = 0; at < inputs.size(); at += engine.input_bytes()) {
    std::copy_n(inputs.data() + at, engine.input_bytes(), engine.input());
    engine.invoke();
    outputs.insert(outputs.end(), engine.output(), engine.output() + engine.output_bytes());
  }
  return outputs;
}

std::string message_of(const cli::InferOptions& options) {
  try {
    cli::run_infer(options);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(CmdInfer, FlagsParseIntoTheOptions) {
  CLI::App app;
  cli::InferOptions options;
  cli::add_infer_options(app, &options);
  test::parse_args(app,
                   {"infer", "--model", "small", "--input", "in.npy", "--output", "out.i8", "--kernels", "reference"});
  EXPECT_EQ(options.model, "small");
  EXPECT_EQ(options.input, "in.npy");
  EXPECT_EQ(options.output, "out.i8");
  EXPECT_EQ(options.kernels, KernelSet::kReference);

  CLI::App without_input;
  cli::InferOptions ignored;
  cli::add_infer_options(without_input, &ignored);
  EXPECT_THROW(test::parse_args(without_input, {"infer", "--output", "out.i8"}), CLI::RequiredError);
}

TEST(CmdInfer, NpyOutputsAreTheModelsOutputsForEachInput) {
  const test::ScratchDir dir("cmd_infer_npy");
  const std::vector<std::int8_t> inputs = engine_inputs(3);
  cli::InferOptions options;
  options.model = test::model_path("small");
  options.input = (dir / "in.npy");
  options.output = (dir / "out.npy");
  host::write_npy(options.input, "i1", {3, 32, 32, 1}, inputs.data(), inputs.size());
  ASSERT_EQ(cli::run_infer(options), 0);
  const host::NpyArray out = host::read_npy(options.output);
  EXPECT_EQ(out.dtype, "i1");
  ASSERT_EQ(out.shape, (std::vector<std::int64_t>{3, static_cast<std::int64_t>(kOutputBytes)}));
  const std::vector<std::int8_t> expected = reference_outputs(options.model, inputs);
  EXPECT_EQ(std::vector<std::int8_t>(out.data.begin(), out.data.end()), expected);
}

TEST(CmdInfer, RawOutputsAreTheModelsOutputsForEachInput) {
  const test::ScratchDir dir("cmd_infer_raw");
  const std::vector<std::int8_t> inputs = engine_inputs(4);
  cli::InferOptions options;
  options.model = test::model_path("medium");
  options.input = (dir / "in.i8");
  options.output = (dir / "out.i8");
  host::write_file(options.input, inputs.data(), inputs.size());
  ASSERT_EQ(cli::run_infer(options), 0);
  const std::vector<std::uint8_t> out = host::read_file(options.output);
  ASSERT_EQ(out.size(), 4 * kOutputBytes);
  const std::vector<std::int8_t> expected = reference_outputs(options.model, inputs);
  EXPECT_EQ(std::vector<std::int8_t>(out.begin(), out.end()), expected);
}

TEST(CmdInfer, InputsThatDoNotFitTheModelAreRefusedWithAReason) {
  const test::ScratchDir dir("cmd_infer_bad");
  cli::InferOptions options;
  options.model = test::model_path("small");
  options.output = (dir / "out.npy");
  const std::vector<std::int8_t> bytes = engine_inputs(2);

  options.input = (dir / "odd.i8");
  host::write_file(options.input, bytes.data(), 1000);
  EXPECT_NE(message_of(options).find("1000 bytes is not a whole number of 1024-byte"), std::string::npos)
      << message_of(options);
  host::write_file(options.input, bytes.data(), 0);
  EXPECT_NE(message_of(options).find("empty"), std::string::npos) << message_of(options);

  options.input = (dir / "float.npy");
  const std::vector<float> floats(kInputBytes, 0.5f);
  host::write_npy(options.input, "f4", {32, 32}, floats.data(), floats.size() * sizeof(float));
  EXPECT_NE(message_of(options).find("expected int8"), std::string::npos) << message_of(options);

  options.input = (dir / "shape.npy");
  host::write_npy(options.input, "i1", {2, 32, 16, 2}, bytes.data(), bytes.size());  // 2 inputs' bytes, wrong shape
  EXPECT_NE(message_of(options).find("expected [N,32,32,1]"), std::string::npos) << message_of(options);
  EXPECT_FALSE(std::filesystem::exists(options.output));  // nothing written for a refused input
}

}  // namespace
}  // namespace micronet_ad
