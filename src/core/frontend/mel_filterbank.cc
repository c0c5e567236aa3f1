// Slaney mel filterbank (docs/frontend.md), computed in double once at setup.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "micronet_ad/frontend.h"

// As in log_mel.cc: on x86-64 Linux apply() is compiled twice, baseline and AVX2, picked at load
// time (an ifunc). AVX2 without FMA: both versions round every operation identically.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define MNAD_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MNAD_AVX2_CLONES
#endif

namespace micronet_ad {
namespace {

// Slaney scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
constexpr double kHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kHzPerMel;  // 15

double log_step() { return std::log(6.4) / 27.0; }

double hz_to_mel(double hz) {
  if (hz < kLogStartHz) return hz / kHzPerMel;
  return kLogStartMel + std::log(hz / kLogStartHz) / log_step();
}

double mel_to_hz(double mel) {
  if (mel < kLogStartMel) return mel * kHzPerMel;
  return kLogStartHz * std::exp((mel - kLogStartMel) * log_step());
}

// Band m's triangle has corners at mel points m, m+1, m+2 of 66 points evenly spaced in mel.
double mel_point(int i) { return hz_to_mel(kMelMaxHz) * i / (kMelBands + 1); }

}  // namespace

double MelFilterbank::reference_weight(int band, int bin) {
  const double left = mel_point(band), centre = mel_point(band + 1), right = mel_point(band + 2);
  const double mel = hz_to_mel(static_cast<double>(bin) * kSampleRateHz / kFrameLength);
  const double rising = (mel - left) / (centre - left);
  const double falling = (right - mel) / (right - centre);
  const double area_norm = 2.0 / (mel_to_hz(right) - mel_to_hz(left));
  return std::max(0.0, std::min(rising, falling)) * area_norm;
}

MelFilterbank::MelFilterbank() {
  int stored = 0;
  for (int band = 0; band < kMelBands; ++band) {
    // Only bins between the triangle's outer corners can be nonzero: scan those (±1 bin for
    // rounding) instead of all 512, which costs a log per bin.
    const double hz_per_bin = static_cast<double>(kSampleRateHz) / kFrameLength;
    const double left_bin = mel_to_hz(mel_point(band)) / hz_per_bin;
    const double right_bin = mel_to_hz(mel_point(band + 2)) / hz_per_bin;
    const int low = std::max(0, static_cast<int>(std::floor(left_bin)) - 1);
    const int high = std::min(kPowerBins - 1, static_cast<int>(std::ceil(right_bin)) + 1);
    int first = -1, last = -1;
    for (int bin = low; bin <= high; ++bin) {
      if (reference_weight(band, bin) > 0.0) {
        if (first < 0) first = bin;
        last = bin;
      }
    }
    const int count = first < 0 ? 0 : last - first + 1;  // triangles are convex: no gaps
    first_bin_[band] = static_cast<std::int16_t>(first < 0 ? 0 : first);
    bin_count_[band] = static_cast<std::int16_t>(std::min(count, kMaxWeights - stored));
    offset_[band] = static_cast<std::int16_t>(stored);
    for (int i = 0; i < bin_count_[band]; ++i) {
      weights_[stored + i] = static_cast<float>(reference_weight(band, first + i));
    }
    stored += bin_count_[band];
  }
}

MNAD_AVX2_CLONES void MelFilterbank::apply(const double* power, double* energy) const {
  for (int band = 0; band < kMelBands; ++band) {
    const float* w = weights_ + offset_[band];
    const double* p = power + first_bin_[band];
    // Four independent partial sums: one chain of dependent double adds is latency-bound
    // (~4 cycles per bin). The order changes the double result only in its last bits.
    const int count = bin_count_[band];
    // FLT_MIN is the kit's floor: silence gives 10·log10(FLT_MIN) ≈ −376 dB.
    double sum[4] = {FLT_MIN, 0.0, 0.0, 0.0};
    int i = 0;
    for (; i + 4 <= count; i += 4) {
      for (int j = 0; j < 4; ++j) sum[j] += static_cast<double>(w[i + j]) * p[i + j];
    }
    for (; i < count; ++i) sum[0] += static_cast<double>(w[i]) * p[i];
    energy[band] = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  }
}

double MelFilterbank::weight(int band, int bin) const {
  if (band < 0 || band >= kMelBands) return 0.0;
  const int i = bin - first_bin_[band];
  if (i < 0 || i >= bin_count_[band]) return 0.0;
  return weights_[offset_[band] + i];
}

}  // namespace micronet_ad
