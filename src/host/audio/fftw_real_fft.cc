#include "host/audio/fftw_real_fft.h"

#include <fftw3.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MNAD_SPLIT_AVX2 1
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

#if MNAD_SPLIT_AVX2
// FftwRealFft::split's SSE2 loop on four bins per step (k … k+3 and 512−k … 509−k), the same
// operations lane for lane (no FMA), so the same bits. Bins 1..256; the caller sets 0 and 512.
// Reverses the four complex values of a vector (each is one 64-bit lane).
__attribute__((target("avx2"))) inline __m256 reverse(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(0, 1, 2, 3)));
}

__attribute__((target("avx2"))) void split_avx2(const float* Z, const float* twiddle, float* out) {
  constexpr int kHalf = kFrameLength / 2;
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 conj = _mm256_castsi256_ps(_mm256_set_epi32(INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0));
  const __m256 flip_re = _mm256_castsi256_ps(_mm256_set_epi32(0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN));
  for (int k = 1; k < kHalf / 2; k += 4) {
    const int m = kHalf - k - 3;  // Z[m … m+3] pair with Z[k+3 … k]
    const __m256 a = _mm256_loadu_ps(Z + 2 * k);
    const __m256 b = _mm256_xor_ps(reverse(_mm256_loadu_ps(Z + 2 * m)), conj);
    const __m256 e = _mm256_mul_ps(half, _mm256_add_ps(a, b));
    const __m256 d = _mm256_sub_ps(a, b);
    const __m256 o = _mm256_xor_ps(_mm256_mul_ps(half, _mm256_shuffle_ps(d, d, _MM_SHUFFLE(2, 3, 0, 1))), conj);
    const __m256 w = _mm256_loadu_ps(twiddle + 2 * k);
    const __m256 w_re = _mm256_shuffle_ps(w, w, _MM_SHUFFLE(2, 2, 0, 0));
    const __m256 w_im = _mm256_shuffle_ps(w, w, _MM_SHUFFLE(3, 3, 1, 1));
    const __m256 o_swapped = _mm256_shuffle_ps(o, o, _MM_SHUFFLE(2, 3, 0, 1));
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(w_re, o), _mm256_xor_ps(_mm256_mul_ps(w_im, o_swapped), flip_re));
    _mm256_storeu_ps(out + 2 * k, _mm256_add_ps(e, t));
    _mm256_storeu_ps(out + 2 * m, reverse(_mm256_xor_ps(_mm256_sub_ps(e, t), conj)));
  }
}
#endif

}  // namespace

// fftwf_complex is float[2]: interleaved (re, im), RealFft's layout.
static_assert(sizeof(fftwf_complex) == 2 * sizeof(float), "fftwf_complex must be two packed floats");

FftwRealFft::FftwRealFft(bool allow_avx2) {
#if MNAD_SPLIT_AVX2
  avx2_ = allow_avx2 && __builtin_cpu_supports("avx2");
#else
  (void)allow_avx2;
#endif
  const double pi = std::acos(-1.0);
  for (int k = 0; k < kHalf; ++k) {
    twiddle_[2 * k] = static_cast<float>(std::cos(2.0 * pi * k / kFrameLength));
    twiddle_[2 * k + 1] = static_cast<float>(-std::sin(2.0 * pi * k / kFrameLength));
  }
  twiddle_[kHalf] = 0.0f;  // k = 256: exactly −i (cos(π/2) is 6e-17 in double)
  std::lock_guard<std::mutex> lock(planner_mutex());
  in_ = reinterpret_cast<float*>(fftwf_alloc_complex(kHalf));
  out_ = reinterpret_cast<float*>(fftwf_alloc_complex(kHalf));
  if (in_ != nullptr && out_ != nullptr) {
    plan_ = fftwf_plan_dft_1d(kHalf, reinterpret_cast<fftwf_complex*>(in_), reinterpret_cast<fftwf_complex*>(out_),
                              FFTW_FORWARD, FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  }
  if (plan_ == nullptr) {
    fftwf_free(in_);
    fftwf_free(out_);
    throw std::runtime_error("FFTW: cannot plan a 512-point complex FFT");
  }
}

FftwRealFft::~FftwRealFft() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  fftwf_destroy_plan(plan_);
  fftwf_free(in_);
  fftwf_free(out_);
}

void FftwRealFft::forward(const float* in, float* out) {
  // New-array execution needs the alignment the plan was made with; otherwise bounce.
  const float* z = in;
  if (fftwf_alignment_of(const_cast<float*>(in)) != fftwf_alignment_of(in_)) {
    std::memcpy(in_, in, sizeof(float) * kFrameLength);
    z = in_;
  }
  // PRESERVE_INPUT: FFTW does not write `z`; the cast only fits its C signature.
  fftwf_execute_dft(plan_, reinterpret_cast<fftwf_complex*>(const_cast<float*>(z)),
                    reinterpret_cast<fftwf_complex*>(out_));

#if MNAD_SPLIT_AVX2
  if (avx2_) {
    out[0] = out_[0] + out_[1];  // as split() does
    out[1] = 0.0f;
    out[2 * kHalf] = out_[0] - out_[1];
    out[2 * kHalf + 1] = 0.0f;
    split_avx2(out_, twiddle_, out);
    return;
  }
#endif
  split(out_, out);
}

// With Z = FFT512(z), the even and odd samples' spectra are E[k] = (Z[k] + Z*[512−k])/2 and
// O[k] = −i·(Z[k] − Z*[512−k])/2, and X[k] = E[k] + w^k·O[k] with w = e^(−2πi/1024). Bins k and
// 512−k share E and O: X[512−k] = conj(E[k] − w^k·O[k]). Both versions below do the same float
// operations in the same order, so they give the same bits.
void FftwRealFft::split(const float* Z, float* out) const {
  out[0] = Z[0] + Z[1];  // X[0] and X[512] are real
  out[1] = 0.0f;
  out[2 * kHalf] = Z[0] - Z[1];
  out[2 * kHalf + 1] = 0.0f;
#if defined(__SSE2__) || MNAD_SPLIT_AVX2
  // Two bins per step: k, k+1 from the front and 512−k, 511−k from the back (k = 1, 3, …, 255).
  const __m128 half = _mm_set1_ps(0.5f);
  const __m128 conj = _mm_castsi128_ps(_mm_set_epi32(INT32_MIN, 0, INT32_MIN, 0));  // flips im
  const __m128 flip_re = _mm_castsi128_ps(_mm_set_epi32(0, INT32_MIN, 0, INT32_MIN));
  for (int k = 1; k < kHalf / 2; k += 2) {
    const int m = kHalf - k - 1;  // Z[m], Z[m+1] pair with Z[k+1], Z[k]
    const __m128 a = _mm_loadu_ps(Z + 2 * k);
    const __m128 back = _mm_loadu_ps(Z + 2 * m);
    const __m128 b = _mm_xor_ps(_mm_shuffle_ps(back, back, _MM_SHUFFLE(1, 0, 3, 2)), conj);
    const __m128 e = _mm_mul_ps(half, _mm_add_ps(a, b));
    const __m128 d = _mm_sub_ps(a, b);
    // O = −i·d/2 = (d_im/2, −d_re/2): (0.5·d_im, −(0.5·d_re)) as the scalar version rounds it.
    const __m128 o = _mm_xor_ps(_mm_mul_ps(half, _mm_shuffle_ps(d, d, _MM_SHUFFLE(2, 3, 0, 1))), conj);
    const __m128 w = _mm_loadu_ps(twiddle_ + 2 * k);
    const __m128 w_re = _mm_shuffle_ps(w, w, _MM_SHUFFLE(2, 2, 0, 0));
    const __m128 w_im = _mm_shuffle_ps(w, w, _MM_SHUFFLE(3, 3, 1, 1));
    const __m128 o_swapped = _mm_shuffle_ps(o, o, _MM_SHUFFLE(2, 3, 0, 1));  // (o_im, o_re)
    // t = w·O: (w_re·o_re − w_im·o_im, w_re·o_im + w_im·o_re)
    const __m128 t = _mm_add_ps(_mm_mul_ps(w_re, o), _mm_xor_ps(_mm_mul_ps(w_im, o_swapped), flip_re));
    _mm_storeu_ps(out + 2 * k, _mm_add_ps(e, t));
    const __m128 mirrored = _mm_xor_ps(_mm_sub_ps(e, t), conj);  // bins 512−k, 511−k
    _mm_storeu_ps(out + 2 * m, _mm_shuffle_ps(mirrored, mirrored, _MM_SHUFFLE(1, 0, 3, 2)));
  }
#else
  for (int k = 1; k <= kHalf / 2; ++k) {
    const int m = kHalf - k;
    const float ar = Z[2 * k], ai = Z[2 * k + 1];   // Z[k]
    const float br = Z[2 * m], bi = -Z[2 * m + 1];  // conj(Z[512−k])
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    const float or_ = 0.5f * (ai - bi), oi = -(0.5f * (ar - br));  // −i·(a − b)/2
    const float wr = twiddle_[2 * k], wi = twiddle_[2 * k + 1];
    const float tr = wr * or_ + -(wi * oi), ti = wr * oi + wi * or_;  // w^k·O[k]
    out[2 * k] = er + tr;
    out[2 * k + 1] = ei + ti;
    out[2 * m] = er - tr;  // k = 256 writes bin 256 twice; the second value stays
    out[2 * m + 1] = -(ei - ti);
  }
#endif
}

}  // namespace micronet_ad::host
