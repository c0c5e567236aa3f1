// The engine against TensorFlow Lite Micro: every output and every intermediate tensor byte-equal.
#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/io/model_file.h"
#include "host/io/npy.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

constexpr int kGoldenInputs = 256;
constexpr int kInputBytes = 1024;
constexpr int kOutputBytes = 8;

class GoldenModel : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenModel, AllOutputsByteEqualToTfliteMicro) {
  const std::string name = GetParam();
  const auto file = host::load_model_file(test::model_path(name));
  host::Engine engine(file->model);
  ASSERT_EQ(engine.input_bytes(), static_cast<std::size_t>(kInputBytes));
  ASSERT_EQ(engine.output_bytes(), static_cast<std::size_t>(kOutputBytes));
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  const auto expected = test::shared_int8("golden/engine/ad_" + name + "_outputs_256x8.i8");
  ASSERT_EQ(inputs.size(), static_cast<std::size_t>(kGoldenInputs * kInputBytes));
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kGoldenInputs * kOutputBytes));
  int mismatched = 0;
  for (int i = 0; i < kGoldenInputs; ++i) {
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, engine.input());
    engine.invoke();
    const std::vector<std::int8_t> got(engine.output(), engine.output() + kOutputBytes);
    const std::vector<std::int8_t> want(expected.begin() + i * kOutputBytes, expected.begin() + (i + 1) * kOutputBytes);
    if (got != want) {
      ++mismatched;
      ADD_FAILURE() << name << " input " << i << " output differs from TFLite Micro";
      if (mismatched > 5) break;
    }
  }
  EXPECT_EQ(mismatched, 0);
}

// Running the same interpreter again must not depend on what the previous input left behind.
TEST_P(GoldenModel, RepeatedInvokeIsStateless) {
  const auto file = host::load_model_file(test::model_path(GetParam()));
  host::Engine engine(file->model);
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  std::copy_n(inputs.data(), kInputBytes, engine.input());
  engine.invoke();
  const std::vector<std::int8_t> first(engine.output(), engine.output() + kOutputBytes);
  for (int i = 1; i < 4; ++i) {
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, engine.input());
    engine.invoke();
  }
  std::copy_n(inputs.data(), kInputBytes, engine.input());
  engine.invoke();
  EXPECT_EQ(first, std::vector<std::int8_t>(engine.output(), engine.output() + kOutputBytes));
}

struct LayerCapture {
  std::map<int, std::vector<std::int8_t>> tensors;  // tensor index -> bytes after its op ran
};

void capture(void* context, int, const TensorInfo& out, const std::int8_t* data) {
  static_cast<LayerCapture*>(context)->tensors[out.index].assign(data, data + out.bytes);
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_P(GoldenModel, IntermediateTensorsByteEqualLayerByLayer) {
  const std::string name = GetParam();
  const auto file = host::load_model_file(test::model_path(name));
  host::Engine engine(file->model);
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  for (int k = 0; k < 2; ++k) {
    const std::string dir = host::shared_path("golden/engine/layers/ad_" + name + "/input" + std::to_string(k));
    const std::vector<std::string> files = list_dir(dir);
    ASSERT_GE(files.size(), static_cast<std::size_t>(file->model.num_operators())) << dir;
    LayerCapture layers;
    engine.interpreter().set_observer(capture, &layers);
    std::copy_n(inputs.data() + k * kInputBytes, kInputBytes, engine.input());
    engine.invoke();
    engine.interpreter().set_observer(nullptr, nullptr);
    int compared = 0;
    for (const std::string& f : files) {  // tensorNN_<shape>.i8
      const int index = std::stoi(f.substr(6, 2));
      const auto want = test::shared_int8("golden/engine/layers/ad_" + name + "/input" + std::to_string(k) + "/" + f);
      if (index == file->model.input_tensor()) {
        EXPECT_EQ(want,
                  std::vector<std::int8_t>(inputs.begin() + k * kInputBytes, inputs.begin() + (k + 1) * kInputBytes));
        continue;
      }
      ASSERT_TRUE(layers.tensors.count(index)) << "no operator wrote tensor " << index;
      EXPECT_EQ(layers.tensors[index], want) << name << " input " << k << " tensor " << index << " (" << f << ")";
      ++compared;
    }
    EXPECT_EQ(compared, file->model.num_operators());
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenModel, ::testing::Values("small", "medium", "large"));

TEST(GoldenMlZoo, AdMediumTestVectorPair) {
  const auto file = host::load_model_file(test::model_path("medium"));
  host::Engine engine(file->model);
  const host::NpyArray ifm = host::read_npy(host::shared_path("golden/engine/ad_medium_mlzoo_ifm0.npy"));
  const host::NpyArray ofm = host::read_npy(host::shared_path("golden/engine/ad_medium_mlzoo_ofm0.npy"));
  ASSERT_EQ(ifm.dtype, "i1");
  ASSERT_EQ(ifm.data.size(), engine.input_bytes());
  ASSERT_EQ(ofm.data.size(), engine.output_bytes());
  std::memcpy(engine.input(), ifm.data.data(), ifm.data.size());
  engine.invoke();
  EXPECT_EQ(0, std::memcmp(engine.output(), ofm.data.data(), ofm.data.size()));
}

// docs/models.md facts read back from the files: MACs and the TFLite Micro arena we must beat.
TEST(GoldenModelFacts, MacsMatchSpecAndArenaBeatsTfliteMicro) {
  struct Fact {
    const char* name;
    long long macs;
    std::size_t params;
    std::size_t tflm_arena;
  };
  for (const Fact& f : {Fact{"small", 18740192, 194968, 115408}, Fact{"medium", 62346720, 376172, 272496},
                        Fact{"large", 64494656, 359940, 380032}}) {
    const auto file = host::load_model_file(test::model_path(f.name));
    EXPECT_EQ(file->model.total_macs(), f.macs) << f.name;
    EXPECT_EQ(file->model.parameter_count(), f.params) << f.name;
    EXPECT_LT(file->model.arena_bytes(), f.tflm_arena) << f.name;
    EXPECT_GE(file->model.arena_bytes(), file->model.arena_lower_bound()) << f.name;
  }
}

}  // namespace
}  // namespace micronet_ad
