#include "core/kernels/kernel_sweep.h"

#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "kernels/geometry.h"
#include "kernels/reference/reference.h"

namespace micronet_ad::kernel_sweep {
namespace {

using kernels::ConvGeometry;
using kernels::ConvKernel;
using kernels::KernelLevel;
using kernels::PoolGeometry;
using kernels::PoolKernel;
using kernels::Requantization;

// PCG32: small, deterministic and the same on every target.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  std::uint32_t next() {
    const std::uint64_t old = state_;
    state_ = old * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto xorshifted = static_cast<std::uint32_t>(((old >> 18u) ^ old) >> 27u);
    const auto rot = static_cast<std::uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }
  // Uniform in [lo, hi] (hi − lo < 2^32).
  std::int32_t in(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return static_cast<std::int32_t>(lo + static_cast<std::int64_t>(next() % span));
  }
  std::int8_t byte() { return static_cast<std::int8_t>(next()); }

 private:
  std::uint64_t state_;
};

// A bump allocator over the caller's pool, reset per problem.
class Pool {
 public:
  Pool(std::uint8_t* base, std::size_t size) : base_(base), size_(size) {}
  void reset() { used_ = 0; }
  template <typename T>
  T* take(std::size_t count) {
    used_ = (used_ + 63) / 64 * 64;
    if (used_ + count * sizeof(T) > size_) return nullptr;
    T* p = reinterpret_cast<T*>(base_ + used_);
    used_ += count * sizeof(T);
    return p;
  }

 private:
  std::uint8_t* base_;
  std::size_t size_, used_ = 0;
};

enum class Extremes { kRandom, kZeroPointMin, kZeroPointMax, kLargeLeftShift, kTinyMultiplier, kSaturate, kCount };

struct Problem {
  ConvGeometry g;
  Requantization rq;
  bool depthwise = false;
  std::int8_t* x = nullptr;
  std::int8_t* w = nullptr;
  std::int32_t* bias = nullptr;  // nullptr in some problems: kernels must treat it as zero
  std::int32_t* multipliers = nullptr;
  std::int32_t* shifts = nullptr;
  int extremes = 0;
};

std::size_t bytes_of(int a, int b, int c) { return static_cast<std::size_t>(a) * b * c; }

class Sweeper {
 public:
  Sweeper(const KernelLevel& level, std::uint8_t* pool, std::size_t pool_bytes, Result* result)
      : level_(level), pool_(pool, pool_bytes), result_(result) {}

  // A convolution problem of the given shape with random data and (sometimes extreme) quantization.
  bool make(Problem* p, int h, int w, int in_c, int out_c, int k, int stride, Padding padding, bool depthwise,
            Extremes extremes, Rng& rng) {
    pool_.reset();
    ConvGeometry& g = p->g;
    g = ConvGeometry{};
    g.in_h = h;
    g.in_w = w;
    g.in_c = in_c;
    g.out_c = depthwise ? in_c : out_c;
    g.filter_h = g.filter_w = k;
    g.stride_h = g.stride_w = stride;
    g.out_h = kernels::output_size(padding, h, k, stride, 1);
    g.out_w = kernels::output_size(padding, w, k, stride, 1);
    g.pad_top = kernels::padding_before(padding, h, g.out_h, k, stride, 1);
    g.pad_left = kernels::padding_before(padding, w, g.out_w, k, stride, 1);
    p->depthwise = depthwise;
    p->extremes = static_cast<int>(extremes);
    std::int32_t in_zp = rng.byte(), out_zp = rng.byte();
    if (extremes == Extremes::kZeroPointMin) in_zp = out_zp = -128;
    if (extremes == Extremes::kZeroPointMax) in_zp = out_zp = 127;
    p->rq = Requantization{};
    p->rq.input_offset = -in_zp;
    p->rq.output_offset = out_zp;
    if (extremes == Extremes::kRandom) {  // a RELU6-like narrow range
      p->rq.act_min = out_zp > -128 ? out_zp : -128;
      p->rq.act_max = out_zp + 40 < 127 ? out_zp + 40 : 127;
    }
    const std::size_t weights = depthwise ? bytes_of(k, k, in_c) : bytes_of(out_c, k * k, in_c);
    const int padded =
        static_cast<int>((g.out_c + level_.channel_padding - 1) / level_.channel_padding * level_.channel_padding);
    p->x = pool_.take<std::int8_t>(bytes_of(h, w, in_c));
    p->w = pool_.take<std::int8_t>(weights);
    p->bias = pool_.take<std::int32_t>(static_cast<std::size_t>(g.out_c));
    p->multipliers = pool_.take<std::int32_t>(static_cast<std::size_t>(padded));
    p->shifts = pool_.take<std::int32_t>(static_cast<std::size_t>(padded));
    if (!p->x || !p->w || !p->bias || !p->multipliers || !p->shifts) return false;
    for (std::size_t i = 0; i < bytes_of(h, w, in_c); ++i) p->x[i] = rng.byte();
    for (std::size_t i = 0; i < weights; ++i) {
      p->w[i] = rng.byte();
      if (extremes == Extremes::kSaturate) p->w[i] = (p->w[i] & 1) ? 127 : -128;
    }
    for (int c = 0; c < padded; ++c) p->multipliers[c] = p->shifts[c] = 0;
    for (int c = 0; c < g.out_c; ++c) {
      // Big biases make acc + bias wrap (TFLite's int32 `+`); large left shifts wrap the shift.
      p->bias[c] = extremes == Extremes::kLargeLeftShift ? rng.in(INT32_MIN, INT32_MAX) : rng.in(-50000, 50000);
      p->multipliers[c] = rng.in(1 << 30, INT32_MAX);
      switch (extremes) {
        case Extremes::kLargeLeftShift:
          p->shifts[c] = rng.in(1, 30);
          break;
        case Extremes::kTinyMultiplier:
          p->shifts[c] = c % 3 == 0 ? -31 : rng.in(-31, 0);
          break;
        case Extremes::kSaturate:
          p->shifts[c] = c % 2 == 0 ? 5 : -3;
          break;
        default:
          p->shifts[c] = rng.in(-20, 2);
          break;
      }
      if (c % 7 == 3) p->multipliers[c] = 1 << 30;     // exactly 0.5
      if (c % 11 == 5) p->multipliers[c] = INT32_MAX;  // just below 1
    }
    if (extremes == Extremes::kZeroPointMax && (in_c + out_c) % 2 == 0) p->bias = nullptr;
    p->rq.multipliers = p->multipliers;
    p->rq.shifts = p->shifts;
    return true;
  }

  // Runs p through `kernel` (if the level has one accepting it) as a whole layer and in bands of
  // `band` output rows, each against the reference.
  void check_conv(const Problem& p, const ConvKernel* kernels, int count, bool bands = true) {
    const ConvKernel* kernel = kernels::find_conv(kernels, count, p.g);
    if (kernel == nullptr) return;
    const ConvGeometry& g = p.g;
    const std::size_t out_bytes = bytes_of(g.out_h, g.out_w, g.out_c);
    auto* want = pool_.take<std::int8_t>(out_bytes);
    auto* got = pool_.take<std::int8_t>(out_bytes);
    void* packed = kernel->packed_bytes ? pool_.take<std::uint8_t>(kernel->packed_bytes(g)) : nullptr;
    void* scratch = kernel->scratch_bytes ? pool_.take<std::uint8_t>(kernel->scratch_bytes(g) + 1) : nullptr;
    if (!want || !got || (kernel->packed_bytes && !packed) || (kernel->scratch_bytes && !scratch)) {
      fail(kernel->name, p, "the sweep's pool is too small for this problem");
      return;
    }
    if (p.depthwise)
      kernels::reference::depthwise_conv2d(g, p.rq, p.x, p.w, p.bias, want);
    else
      kernels::reference::conv2d(g, p.rq, p.x, p.w, p.bias, want);
    if (packed) kernel->pack(g, p.w, p.bias, p.rq.input_offset, packed);
    for (int band : {0, 1, 3}) {  // 0: the whole layer
      if (band >= g.out_h || (band > 0 && !bands)) continue;
      std::memset(got, 0x5a, out_bytes);
      if (band == 0) {
        kernel->run(kernels::ConvCall{&g, &p.rq, p.x, p.w, p.bias, packed, scratch, got});
      } else {
        for (int r0 = 0; r0 < g.out_h; r0 += band)
          run_rows(*kernel, p, packed, scratch, r0, r0 + band < g.out_h ? r0 + band : g.out_h, got);
      }
      tally(kernel->name, std::memcmp(got, want, out_bytes) == 0, p, band);
    }
  }

  void check_pool(const PoolGeometry& g, const std::int8_t* x) {
    const PoolKernel* kernel = nullptr;
    for (int i = 0; i < level_.average_pool_count && kernel == nullptr; ++i)
      if (level_.average_pool[i].accepts(g)) kernel = &level_.average_pool[i];
    if (kernel == nullptr) return;
    const std::size_t out_bytes = bytes_of(g.out_h, g.out_w, g.channels);
    auto* want = pool_.take<std::int8_t>(out_bytes);
    auto* got = pool_.take<std::int8_t>(out_bytes);
    kernels::reference::average_pool2d(g, x, want);
    kernel->run(g, x, got);
    const bool ok = std::memcmp(got, want, out_bytes) == 0;
    KernelTally& t = tally_of(kernel->name);
    ++t.cases;
    ++result_->cases;
    if (!ok) {
      ++t.failures;
      ++result_->failures;
      if (result_->first_failure[0] == '\0')
        std::snprintf(result_->first_failure, sizeof(result_->first_failure), "%s: %dx%dx%d window %dx%d stride %d",
                      kernel->name, g.in_h, g.in_w, g.channels, g.filter_h, g.filter_w, g.stride_h);
    }
  }

  Pool& pool() { return pool_; }

 private:
  // Output rows [r0, r1) as the interpreter's band fusion runs them: the band's input starts at
  // the first row its windows read, and its top padding is what remains above that.
  void run_rows(const ConvKernel& kernel, const Problem& p, const void* packed, void* scratch, int r0, int r1,
                std::int8_t* y) {
    const ConvGeometry& g = p.g;
    ConvGeometry rows = g;
    const int first = r0 * g.stride_h - g.pad_top;
    const int skip = first > 0 ? first : 0;
    rows.in_h = g.in_h - skip;
    rows.pad_top = skip - first;
    rows.out_h = r1 - r0;
    const std::int8_t* x = p.x + bytes_of(skip, g.in_w, g.in_c);
    kernel.run(kernels::ConvCall{&rows, &p.rq, x, p.w, p.bias, packed, scratch, y + bytes_of(r0, g.out_w, g.out_c)});
  }

  KernelTally& tally_of(const char* name) {
    for (int i = 0; i < result_->num_kernels; ++i)
      if (std::strcmp(result_->kernels[i].name, name) == 0) return result_->kernels[i];
    KernelTally& t = result_->kernels[result_->num_kernels < Result::kMaxKernels - 1 ? result_->num_kernels++
                                                                                     : Result::kMaxKernels - 1];
    t.name = name;
    return t;
  }

  void tally(const char* name, bool ok, const Problem& p, int band) {
    KernelTally& t = tally_of(name);
    ++t.cases;
    ++result_->cases;
    if (ok) return;
    char what[48];
    std::snprintf(what, sizeof(what), band == 0 ? "differs" : "differs in bands of %d rows", band);
    fail(name, p, what);
  }

  void fail(const char* name, const Problem& p, const char* what) {
    ++tally_of(name).failures;
    ++result_->failures;
    if (result_->first_failure[0] != '\0') return;
    const ConvGeometry& g = p.g;
    std::snprintf(result_->first_failure, sizeof(result_->first_failure),
                  "%s %s: %dx%dx%d -> %dx%dx%d k%dx%d s%d pad %d,%d extremes %d in_zp %d out_zp %d", name, what, g.in_h,
                  g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.filter_h, g.filter_w, g.stride_h, g.pad_top, g.pad_left,
                  p.extremes, static_cast<int>(-p.rq.input_offset), static_cast<int>(p.rq.output_offset));
  }

  const KernelLevel& level_;
  Pool pool_;
  Result* result_;
};

constexpr int kChannels[] = {1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 72, 164, 276};
constexpr int kExtremesCount = static_cast<int>(Extremes::kCount);

Extremes extremes_of(int n) { return static_cast<Extremes>(n % kExtremesCount); }

void sweep_pointwise(Sweeper& s, const KernelLevel& level) {
  Rng rng(1);
  Problem p;
  const int maps[][2] = {{1, 1}, {1, 7}, {5, 5}, {3, 2}};
  int n = 0;
  for (int in_c : kChannels)
    for (int out_c : kChannels)
      for (const auto& map : maps) {
        if (!s.make(&p, map[0], map[1], in_c, out_c, 1, 1, Padding::kSame, false, extremes_of(n++), rng)) continue;
        s.check_conv(p, level.conv, level.conv_count);
      }
  // The models' own shapes (ad_small, ad_medium), two quantizations each.
  const int shapes[][3] = {{16, 72, 164}, {16, 164, 220}, {8, 220, 276}, {4, 276, 276}, {1, 276, 8}, {8, 248, 248}};
  for (const auto& shape : shapes)
    for (int e = 0; e < 2; ++e) {
      if (!s.make(&p, shape[0], shape[0], shape[1], shape[2], 1, 1, Padding::kSame, false, extremes_of(n++), rng))
        continue;
      s.check_conv(p, level.conv, level.conv_count);
    }
  // Worst-case products: inputs and weights all −128, or −128 and 127 interleaved, which random
  // bytes almost never line up. A kernel that sums two int8 products in int16 ((−128)·(−128)·2 =
  // 2^15) or saturates them differs here; the scale (0.5·2^−16) keeps the outputs off the clamps.
  for (int in_c : {16, 17, 64, 276})
    for (int pattern = 0; pattern < 3; ++pattern) {
      if (!s.make(&p, 5, 5, in_c, 17, 1, 1, Padding::kSame, false, Extremes::kRandom, rng)) continue;
      for (std::size_t i = 0; i < bytes_of(5, 5, in_c); ++i)
        p.x[i] = static_cast<std::int8_t>(pattern == 1 && i % 3 == 0 ? 127 : -128);
      for (std::size_t i = 0; i < bytes_of(17, 1, in_c); ++i)
        p.w[i] = static_cast<std::int8_t>(pattern == 2 && i % 2 == 1 ? 127 : -128);
      for (int c = 0; c < 17; ++c) {
        p.multipliers[c] = 1 << 30;
        p.shifts[c] = -16;
      }
      p.rq.act_min = -128;
      p.rq.act_max = 127;
      s.check_conv(p, level.conv, level.conv_count);
    }
}

void sweep_spatial_conv(Sweeper& s, const KernelLevel& level) {
  Rng rng(3);
  Problem p;
  const int maps[][2] = {{1, 1}, {2, 3}, {7, 6}, {32, 32}};
  int n = 0;
  for (int in_c : {1, 3})
    for (int out_c : kChannels)
      for (const auto& map : maps)
        for (int stride : {1, 2})
          for (Padding padding : {Padding::kSame, Padding::kValid}) {
            if (padding == Padding::kValid && (map[0] < 3 || map[1] < 3)) continue;
            if (map[0] == 32 && out_c != 72 && out_c != 16 && out_c != 5) continue;  // a few widths on the big map
            if (!s.make(&p, map[0], map[1], in_c, out_c, 3, stride, padding, false, extremes_of(n++), rng)) continue;
            s.check_conv(p, level.conv, level.conv_count);
          }
}

void sweep_depthwise(Sweeper& s, const KernelLevel& level) {
  Rng rng(2);
  Problem p;
  const int maps[][2] = {{1, 1}, {2, 2}, {3, 5}, {8, 8}, {9, 7}};
  int n = 0;
  for (int c : kChannels)
    for (const auto& map : maps)
      for (int stride : {1, 2})
        for (Padding padding : {Padding::kSame, Padding::kValid})
          for (int k : {3, 1, 2}) {
            if (padding == Padding::kValid && (map[0] < k || map[1] < k)) continue;
            if (!s.make(&p, map[0], map[1], c, c, k, stride, padding, true, extremes_of(n++), rng)) continue;
            s.check_conv(p, level.depthwise, level.depthwise_count);
          }
  // The models' own shapes.
  const int shapes[][3] = {{32, 72, 2}, {16, 164, 1}, {16, 220, 2}, {8, 276, 2}};
  for (const auto& shape : shapes) {
    if (!s.make(&p, shape[0], shape[0], shape[1], shape[1], 3, shape[2], Padding::kSame, true, extremes_of(n++), rng))
      continue;
    s.check_conv(p, level.depthwise, level.depthwise_count);
  }
}

// Accumulators across the whole int32 range (either side of rounding ties), every shift from −31
// to 31 and multipliers at the edges (0.5, just below 1, 1, 0, −1, INT32_MIN): a 1x1 convolution
// (or depthwise) with weight 1 and input offset 0 makes the accumulator x + bias, x walking
// −128..127 over a 16x16 map while each channel's bias places that walk. The depthwise problem is
// 3x3 with only the centre weight set, the shape depthwise kernels take.
void sweep_requantization(Sweeper& s, const KernelLevel& level) {
  const std::int32_t multipliers[] = {1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1, 0,
                                      -1,      INT32_MIN,     1518500250};
  const std::int32_t biases[] = {INT32_MIN + 128, INT32_MAX - 127,  0,    1 << 30, -(1 << 30),
                                 (1 << 16) + 128, -(1 << 20) - 128, 77777};
  struct Clamp {
    std::int32_t output_offset, act_min;
  };
  const Clamp clamps[] = {{0, -128}, {-3, -128}, {0, 0}, {-128, -128}, {100, 101}};
  constexpr int kPerMultiplier = 63 * 8;  // shifts × biases
  Problem p;
  Rng rng(6);
  for (bool depthwise : {false, true})
    for (const Clamp& clamp : clamps)
      for (std::int32_t m : multipliers) {
        if (!s.make(&p, 16, 16, depthwise ? kPerMultiplier : 1, kPerMultiplier, depthwise ? 3 : 1, 1, Padding::kSame,
                    depthwise, Extremes::kRandom, rng))
          continue;
        if (p.bias == nullptr) continue;
        int c = 0;
        for (int shift = -31; shift <= 31; ++shift)
          for (std::int32_t b : biases) {
            p.multipliers[c] = m;
            p.shifts[c] = shift;
            p.bias[c] = b;
            ++c;
          }
        for (int px = 0; px < 256; ++px)
          for (int ch = 0; ch < p.g.in_c; ++ch) p.x[px * p.g.in_c + ch] = static_cast<std::int8_t>(px - 128);
        const int taps = p.g.filter_h * p.g.filter_w, centre = taps / 2;
        for (int t = 0; t < taps; ++t)
          for (int i = 0; i < kPerMultiplier; ++i) p.w[t * kPerMultiplier + i] = t == centre ? 1 : 0;
        p.rq.input_offset = 0;
        p.rq.output_offset = clamp.output_offset;
        p.rq.act_min = clamp.act_min;
        p.rq.act_max = 127;
        if (depthwise)
          s.check_conv(p, level.depthwise, level.depthwise_count, false);
        else
          s.check_conv(p, level.conv, level.conv_count, false);
      }
}

void sweep_average_pool(Sweeper& s) {
  Rng rng(5);
  int n = 0;
  for (int c : {1, 15, 16, 17, 276})
    for (int hw : {1, 4, 7})
      for (int k : {1, 2, 3, 4, 7})
        for (int stride : {1, 2})
          for (Padding padding : {Padding::kSame, Padding::kValid}) {
            if (k > hw && padding == Padding::kValid) continue;
            s.pool().reset();
            PoolGeometry g;
            g.in_h = g.in_w = hw;
            g.channels = c;
            g.filter_h = g.filter_w = k;
            g.stride_h = g.stride_w = stride;
            g.out_h = g.out_w = kernels::output_size(padding, hw, k, stride, 1);
            g.pad_top = g.pad_left = kernels::padding_before(padding, hw, g.out_h, k, stride, 1);
            if (n % 3 == 1) {
              g.act_min = -20;
              g.act_max = 30;
            }
            auto* x = s.pool().take<std::int8_t>(bytes_of(hw, hw, c));
            const int mode = n % 4;  // random, all −128, all 127, ±1 patterns (rounding ties)
            for (std::size_t i = 0; i < bytes_of(hw, hw, c); ++i)
              x[i] = static_cast<std::int8_t>(mode == 0   ? rng.byte()
                                              : mode == 1 ? -128
                                              : mode == 2 ? 127
                                                          : (i % 3 == 0 ? -1 : 1));
            s.check_pool(g, x);
            ++n;
          }
}

}  // namespace

Result run(const KernelLevel& level, std::uint8_t* pool, std::size_t pool_bytes) {
  Result result;
  Sweeper s(level, pool, pool_bytes, &result);
  sweep_pointwise(s, level);
  sweep_spatial_conv(s, level);
  sweep_depthwise(s, level);
  sweep_requantization(s, level);
  sweep_average_pool(s);
  return result;
}

}  // namespace micronet_ad::kernel_sweep
