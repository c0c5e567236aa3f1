// The x86-64 kernel levels' rows (kernels/level.h): AVX2, AVX-VNNI and AVX-512 VNNI. All drive
// the same operator shapes through the GEMM, im2col and depthwise kernels of optimized.h; only the
// packed layouts (defined beside each kernel) and the micro-kernels differ.
#include "kernels/level.h"
#include "kernels/optimized/optimized.h"

#if defined(__x86_64__)
namespace micronet_ad::kernels {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kMaxIm2colBytes = 64 * 1024;  // larger im2col convolutions stay reference

std::size_t align_up(std::size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }
int gemm_rows(const ConvGeometry& g) { return g.batches * g.out_h * g.out_w; }
int gemm_depth(const ConvGeometry& g) { return g.filter_h * g.filter_w * g.in_c; }

// Packed weights, then the per-channel corrections (bias and offset folding).
template <opt::Level L>
std::size_t gemm_packed_bytes(const ConvGeometry& g) {
  return align_up(opt::gemm_packed_bytes(L, gemm_depth(g), g.out_c)) +
         sizeof(std::int32_t) * static_cast<std::size_t>(opt::padded_channels(g.out_c));
}
template <opt::Level L>
void pack_gemm(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
               void* packed) {
  auto* bytes = static_cast<std::int8_t*>(packed);
  auto* corr = reinterpret_cast<std::int32_t*>(bytes + align_up(opt::gemm_packed_bytes(L, gemm_depth(g), g.out_c)));
  opt::pack_gemm(L, w, gemm_depth(g), g.out_c, bias, input_offset, bytes, corr);
}

template <opt::Level L>
opt::GemmArgs gemm_args(const ConvCall& c) {
  const ConvGeometry& g = *c.g;
  opt::GemmArgs a;
  a.m = gemm_rows(g);
  a.k = gemm_depth(g);
  a.n = g.out_c;
  a.x = c.x;
  a.packed = static_cast<const std::int8_t*>(c.packed);
  a.corr = reinterpret_cast<const std::int32_t*>(a.packed + align_up(opt::gemm_packed_bytes(L, a.k, a.n)));
  a.multipliers = c.rq->multipliers;
  a.shifts = c.rq->shifts;
  a.input_offset = c.rq->input_offset;
  a.output_offset = c.rq->output_offset;
  a.act_min = c.rq->act_min;
  a.act_max = c.rq->act_max;
  a.y = c.y;
  a.scratch = c.scratch;
  return a;
}

template <opt::Level L>
void run_gemm(const opt::GemmArgs& a) {
  if (L == opt::Level::kAvx512Vnni)
    opt::gemm_avx512vnni(a);
  else
    opt::gemm_avx2(a);
}

// 1x1, stride 1, no padding: the input pixels are the GEMM's rows as they lie.
bool accepts_pointwise(const ConvGeometry& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.out_h == g.in_h &&
         g.out_w == g.in_w;
}
template <opt::Level L>
std::size_t pointwise_scratch(const ConvGeometry& g) {
  return opt::gemm_scratch_bytes(L, gemm_rows(g), gemm_depth(g));
}
template <opt::Level L>
void run_pointwise(const ConvCall& c) {
  run_gemm<L>(gemm_args<L>(c));
}

// Other convolutions: rows gathered by im2col into the scratch, after the GEMM's own scratch.
bool accepts_im2col(const ConvGeometry& g) {
  return static_cast<std::size_t>(gemm_rows(g)) * static_cast<std::size_t>(gemm_depth(g)) <= kMaxIm2colBytes;
}
template <opt::Level L>
std::size_t im2col_scratch(const ConvGeometry& g) {
  return align_up(pointwise_scratch<L>(g)) +
         static_cast<std::size_t>(gemm_rows(g)) * static_cast<std::size_t>(opt::gemm_lda(L, gemm_depth(g)));
}
template <opt::Level L>
void run_im2col(const ConvCall& c) {
  opt::GemmArgs a = gemm_args<L>(c);
  auto* cols = static_cast<std::int8_t*>(c.scratch) + align_up(pointwise_scratch<L>(*c.g));
  a.lda = opt::gemm_lda(L, a.k);
  // AVX-512 takes the row sums from im2col, which has each row's bytes at hand.
  auto* terms = L == opt::Level::kAvx512Vnni ? static_cast<std::int32_t*>(c.scratch) : nullptr;
  opt::im2col(*c.g, c.rq->input_offset, c.x, cols, a.lda, terms);
  a.x = cols;
  a.row_terms = terms;
  run_gemm<L>(a);
}

bool accepts_depthwise(const ConvGeometry& g) {
  return g.depth_multiplier == 1 && g.filter_h * g.filter_w <= opt::kMaxDepthwiseTaps;
}
template <opt::Level L>
std::size_t depthwise_packed_bytes(const ConvGeometry& g) {
  return opt::depthwise_packed_bytes(L, g.filter_h, g.filter_w, g.out_c);
}
template <opt::Level L>
void pack_depthwise(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                    void* packed) {
  opt::pack_depthwise(L, w, g.filter_h, g.filter_w, g.out_c, bias, input_offset, packed);
}
template <opt::Level L>
void run_depthwise(const ConvCall& c) {
  if (L == opt::Level::kAvx512Vnni)
    opt::depthwise_avx512(*c.g, *c.rq, c.x, c.packed, c.y);
  else
    opt::depthwise_avx2(*c.g, *c.rq, c.x, c.packed, c.y);
}

bool accepts_pool(const PoolGeometry& g) {
  return static_cast<std::int64_t>(g.filter_h) * g.filter_w <= opt::kMaxPoolWindow;
}

template <opt::Level L>
struct Rows {
  static constexpr ConvKernel conv[] = {
      {L == opt::Level::kAvx2 ? "conv1x1_s8_avx2_6x16" : "conv1x1_s8_avx512vnni_6x64", accepts_pointwise,
       run_pointwise<L>, gemm_packed_bytes<L>, pack_gemm<L>, pointwise_scratch<L>},
      {L == opt::Level::kAvx2 ? "conv_s8_avx2_im2col" : "conv_s8_avx512vnni_im2col", accepts_im2col, run_im2col<L>,
       gemm_packed_bytes<L>, pack_gemm<L>, im2col_scratch<L>},
  };
  static constexpr ConvKernel depthwise[] = {
      {L == opt::Level::kAvx2 ? "dwconv_s8_avx2_16c" : "dwconv_s8_avx512vnni_64c", accepts_depthwise, run_depthwise<L>,
       depthwise_packed_bytes<L>, pack_depthwise<L>, nullptr},
  };
};

// AVX2 tries its 3x3 kernels (x86_avx2_3x3.cc) before the general ones.
using Avx2 = Rows<opt::Level::kAvx2>;
const ConvKernel kAvx2Conv[] = {
    Avx2::conv[0],
    {"conv3x3_in1_s8_avx2", opt::conv3x3_in1_avx2_accepts, opt::conv3x3_in1_avx2_run,
     opt::conv3x3_in1_avx2_packed_bytes, opt::conv3x3_in1_avx2_pack, nullptr},
    Avx2::conv[1],
};
const ConvKernel kAvx2Depthwise[] = {
    {"dwconv3x3_s8_avx2_16c", opt::dw3x3_avx2_accepts, opt::dw3x3_avx2_run, opt::dw3x3_avx2_packed_bytes,
     opt::dw3x3_avx2_pack, nullptr},
    Avx2::depthwise[0],
};

// AVX-VNNI: its own GEMM (vpdpbusd on ymm), the AVX2 3x3 and depthwise kernels.
const ConvKernel kAvxVnniConv[] = {
    {"conv1x1_s8_avxvnni_6x16", opt::avxvnni::accepts_pointwise, opt::avxvnni::run_pointwise,
     opt::avxvnni::packed_bytes, opt::avxvnni::pack, opt::avxvnni::pointwise_scratch},
    kAvx2Conv[1],
    {"conv_s8_avxvnni_im2col", opt::avxvnni::accepts_im2col, opt::avxvnni::run_im2col, opt::avxvnni::packed_bytes,
     opt::avxvnni::pack, opt::avxvnni::im2col_scratch},
};

bool avx2_supported() { return opt::cpu_supports(opt::Level::kAvx2); }
bool avx512_supported() { return opt::cpu_supports(opt::Level::kAvx512Vnni); }

// AVX2 pools with the reference kernel.
const PoolKernel kAvx512Pool[] = {{"avgpool_s8_avx512", accepts_pool, opt::average_pool_avx512}};

}  // namespace

extern const KernelLevel kAvx2Level = {
    KernelSet::kAvx2, avx2_supported, 16, kAlignment, kAvx2Conv, 3, kAvx2Depthwise, 2, nullptr, 0};
extern const KernelLevel kAvxVnniLevel = {
    KernelSet::kAvxVnni, opt::avxvnni_supported, 16, kAlignment, kAvxVnniConv, 3, kAvx2Depthwise, 2, nullptr, 0};
extern const KernelLevel kAvx512VnniLevel = {KernelSet::kAvx512Vnni,
                                             avx512_supported,
                                             16,
                                             kAlignment,
                                             Rows<opt::Level::kAvx512Vnni>::conv,
                                             2,
                                             Rows<opt::Level::kAvx512Vnni>::depthwise,
                                             1,
                                             kAvx512Pool,
                                             1};

}  // namespace micronet_ad::kernels
#endif  // __x86_64__
