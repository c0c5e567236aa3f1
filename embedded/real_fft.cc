#include "real_fft.h"

#include <cmath>
#include <cstdint>

namespace board {
namespace {

constexpr int kHalf = PortableRealFft::kHalf;
constexpr int kPoints = PortableRealFft::kPoints;
constexpr int kLogHalf = 9;  // 2^9 = 512
static_assert((1 << kLogHalf) == kHalf, "the inner FFT is 512 points");

// w^k = e^(−2πik/1024) for k = 0..511 as (re, im). The 512-point FFT's twiddles are its even
// entries; the split needs k = 0..256. Computed in double, rounded once to float.
float g_twiddle[2 * kHalf];
// Bit-reversed index of each of the 512 inner points (9 bits).
std::uint16_t g_bit_reversed[kHalf];
bool g_tables_ready = false;

void build_tables() {
  const double pi = std::acos(-1.0);
  for (int k = 0; k < kHalf; ++k) {
    g_twiddle[2 * k] = static_cast<float>(std::cos(2.0 * pi * k / kPoints));
    g_twiddle[2 * k + 1] = static_cast<float>(-std::sin(2.0 * pi * k / kPoints));
  }
  // Exact where the true value is 0 or ±1 (cos(π/2) is 6e-17 in double).
  g_twiddle[2 * (kHalf / 2)] = 0.0f;
  g_twiddle[2 * (kHalf / 2) + 1] = -1.0f;
  for (int n = 0; n < kHalf; ++n) {
    int reversed = 0;
    for (int bit = 0; bit < kLogHalf; ++bit) reversed |= ((n >> bit) & 1) << (kLogHalf - 1 - bit);
    g_bit_reversed[n] = static_cast<std::uint16_t>(reversed);
  }
  g_tables_ready = true;
}

}  // namespace

PortableRealFft::PortableRealFft() {
  if (!g_tables_ready) build_tables();
}

// Radix-2 decimation in time, two stages per pass (radix 2²): a bit-reversed load that also does
// the first stage, then four passes of stage pairs (4, 8), (16, 32), (64, 128), (256, 512). Each
// pass reads and writes every point once for two stages: half the memory traffic and loop
// overhead of one stage per pass, with the same arithmetic as plain radix 2.
void PortableRealFft::complex_fft(const float* in) {
  float* z = work_;
  for (int n = 0; n < kHalf; n += 2) {  // the first stage's twiddle is 1
    const int a = g_bit_reversed[n], b = g_bit_reversed[n + 1];
    const float ar = in[2 * a], ai = in[2 * a + 1], br = in[2 * b], bi = in[2 * b + 1];
    z[2 * n] = ar + br;
    z[2 * n + 1] = ai + bi;
    z[2 * n + 2] = ar - br;
    z[2 * n + 3] = ai - bi;
  }
  // Stages of length 2h and 4h over the points i, i+h, i+2h, i+3h of each 4h-point group.
  for (int h = 2; h < kHalf; h *= 4) {
    const int step = kPoints / (4 * h);  // w_4h^j = W^(j·step) and w_2h^j = W^(2j·step), W = w_1024
    for (int j = 0; j < h; ++j) {
      const float ur = g_twiddle[4 * j * step], ui = g_twiddle[4 * j * step + 1];  // w_2h^j
      const float vr = g_twiddle[2 * j * step], vi = g_twiddle[2 * j * step + 1];  // w_4h^j
      for (int i = j; i < kHalf; i += 4 * h) {
        float* a = z + 2 * i;
        float* b = a + 2 * h;
        float* c = b + 2 * h;
        float* d = c + 2 * h;
        // Stage 2h: (a, b) and (c, d), both with w_2h^j.
        const float t1r = ur * b[0] - ui * b[1], t1i = ur * b[1] + ui * b[0];
        const float t2r = ur * d[0] - ui * d[1], t2i = ur * d[1] + ui * d[0];
        const float a1r = a[0] + t1r, a1i = a[1] + t1i, b1r = a[0] - t1r, b1i = a[1] - t1i;
        const float c1r = c[0] + t2r, c1i = c[1] + t2i, d1r = c[0] - t2r, d1i = c[1] - t2i;
        // Stage 4h: (a, c) with w_4h^j and (b, d) with w_4h^(j+h) = −i·w_4h^j.
        const float t3r = vr * c1r - vi * c1i, t3i = vr * c1i + vi * c1r;
        const float t4r = vr * d1i + vi * d1r, t4i = -(vr * d1r - vi * d1i);  // −i·(v·d1)
        a[0] = a1r + t3r;
        a[1] = a1i + t3i;
        c[0] = a1r - t3r;
        c[1] = a1i - t3i;
        b[0] = b1r + t4r;
        b[1] = b1i + t4i;
        d[0] = b1r - t4r;
        d[1] = b1i - t4i;
      }
    }
  }
}

// With Z = FFT512(z): E[k] = (Z[k] + Z*[512−k])/2 (even samples' spectrum), O[k] = −i·(Z[k] −
// Z*[512−k])/2 (odd samples'), X[k] = E[k] + w^k·O[k] and X[512−k] = conj(E[k] − w^k·O[k]).
void PortableRealFft::split(float* out) const {
  const float* z = work_;
  out[0] = z[0] + z[1];  // X[0] and X[512] are real
  out[1] = 0.0f;
  out[2 * kHalf] = z[0] - z[1];
  out[2 * kHalf + 1] = 0.0f;
  for (int k = 1; k <= kHalf / 2; ++k) {
    const int m = kHalf - k;
    const float ar = z[2 * k], ai = z[2 * k + 1];   // Z[k]
    const float br = z[2 * m], bi = -z[2 * m + 1];  // conj(Z[512−k])
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    const float or_ = 0.5f * (ai - bi), oi = -(0.5f * (ar - br));
    const float wr = g_twiddle[2 * k], wi = g_twiddle[2 * k + 1];
    const float tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;  // w^k·O[k]
    out[2 * k] = er + tr;
    out[2 * k + 1] = ei + ti;
    out[2 * m] = er - tr;  // k = 256 writes bin 256 twice, the same value
    out[2 * m + 1] = -(ei - ti);
  }
}

void PortableRealFft::forward(const float* in, float* out) {
  complex_fft(in);
  split(out);
}

}  // namespace board
