// Writes small valid models (the test builder's tiny network and variants) as fuzz seeds: they
// run in microseconds, so the fuzzer can reach the kernels on every input derived from them.
//   make_fuzz_seeds <directory>
#include <cstdio>
#include <string>

#include "core/model_builder.h"

namespace {

bool write(const std::string& path, const micronet_ad::test::ModelSpec& spec) {
  const micronet_ad::test::ModelBytes bytes = micronet_ad::test::build_model(spec);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace micronet_ad::test;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = write(dir + "/seed_tiny.tflite", tiny_model());

  ModelSpec shared_bias = tiny_model();  // docs/models.md: one bias tensor for two layers
  shared_bias.ops[kOpDw].inputs[2] = kConv0Bias;
  ok = ok && write(dir + "/seed_tiny_shared_bias.tflite", shared_bias);

  ModelSpec no_bias = tiny_model();
  no_bias.ops[kOpConv1].inputs.resize(2);
  no_bias.ops[kOpDw].inputs[2] = -1;
  ok = ok && write(dir + "/seed_tiny_no_bias.tflite", no_bias);

  ModelSpec stride2 = tiny_model();
  stride2.ops[kOpConv0].stride_h = stride2.ops[kOpConv0].stride_w = 2;
  stride2.tensors[kConv0Out].shape = {1, 4, 4, kTinyChannels};
  stride2.ops[kOpDw].stride_h = stride2.ops[kOpDw].stride_w = 1;
  stride2.ops[kOpDw].dilation_h = 2;
  ok = ok && write(dir + "/seed_tiny_stride2_dilated.tflite", stride2);

  ModelSpec same_pool = tiny_model();  // SAME pooling with a 3x3 window and stride 2
  same_pool.ops[kOpPool].padding = tflite_subset::Padding_SAME;
  same_pool.ops[kOpPool].filter_h = same_pool.ops[kOpPool].filter_w = 3;
  same_pool.ops[kOpPool].stride_h = same_pool.ops[kOpPool].stride_w = 4;
  ok = ok && write(dir + "/seed_tiny_same_pool.tflite", same_pool);

  // FULLY_CONNECTED and a residual ADD (the DS-CNN of tests/core/ops/op_table_test.cc), and variants.
  ok = ok && write(dir + "/seed_kws.tflite", kws_model());
  ModelSpec kws_per_tensor = kws_model();  // per-tensor FC weights, no bias
  kws_per_tensor.tensors[kKwsFcWeights].scales = {0.013f};
  kws_per_tensor.tensors[kKwsFcWeights].zero_points = {0};
  kws_per_tensor.ops[kKwsOpFc].inputs.resize(2);
  kws_per_tensor.ops[kKwsOpAdd].activation = tflite_subset::ActivationFunctionType_RELU6;
  ok = ok && write(dir + "/seed_kws_per_tensor_fc.tflite", kws_per_tensor);
  ModelSpec kws_batched = kws_model();  // FULLY_CONNECTED over two batches of depth 4
  kws_batched.tensors[kKwsFcWeights].shape = {8, 4};
  kws_batched.tensors[kKwsFcWeights].scales = {0.02f};
  kws_batched.tensors[kKwsFcWeights].zero_points = {0};
  kws_batched.ops[kKwsOpFc].inputs.resize(2);
  kws_batched.tensors[kKwsOutput].shape = {2, 8};
  ok = ok && write(dir + "/seed_kws_batched_fc.tflite", kws_batched);

  if (!ok) {
    std::fprintf(stderr, "make_fuzz_seeds: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
