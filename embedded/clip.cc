// micronet-ad end to end on the device: one real 10 s clip (int16 PCM of
// slider/test/anomaly_id_00_00000000.wav, embedded without its WAV header) through the core's
// streaming front end (centered framing, 2x2 average, the model's input quantization; FFT:
// real_fft.h) and then the model, in the same static memory a product would use. Counts the
// instructions of each stage (QEMU -icount) and compares the 13 int8 windows and the 13 outputs
// with the golden data (golden/frontend/clip_slider_anomaly_id_00, computed in float64).
//
// Pass criterion (docs/frontend.md, golden/frontend/README.md, as tests/core/frontend/golden_test.cc
// on the host): every int8 input byte equals the golden one, except that a value whose golden
// x/scale + zp lies within 1e-3 of a .5 rounding boundary may round the other way (|diff| = 1);
// the device's float32 patches must stay within that margin of the float64 golden ones (else
// the exception would not explain a difference); and every window whose input bytes equal the
// golden ones must give the golden output bytes. Exit 0 on pass, 1 otherwise.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "board.h"
#include "micronet_ad/frontend.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"
#include "real_fft.h"

// Generated at build time from ../shared (embed_bin.cmake); never committed.
extern const std::uint8_t kModel[];
extern const std::size_t kModel_size;
extern const std::uint8_t kClipPcm[];  // the clip's int16 little-endian samples (WAV data chunk)
extern const std::size_t kClipPcm_size;
extern const std::uint8_t kClipInputs[];  // 13 x 1024 int8 golden windows (centered-average)
extern const std::size_t kClipInputs_size;
extern const std::uint8_t kClipExpected[];  // 13 x 8 int8 TFLite Micro outputs for them
extern const std::size_t kClipExpected_size;
extern const std::uint8_t kClipPatches[];  // 13 x 1024 float32 golden patches (after the +30 shift)
extern const std::size_t kClipPatches_size;

namespace {

using micronet_ad::Frontend;
using micronet_ad::Interpreter;
using micronet_ad::Model;
using micronet_ad::Status;
using micronet_ad::Window;

constexpr int kWindows = 13;  // a 10 s clip, docs/frontend.md
constexpr int kInputBytes = micronet_ad::kPatchElements;
constexpr int kOutputBytes = 8;
// A value this close (in quantization steps) to a .5 rounding boundary may round either way.
constexpr double kBoundaryMargin = 1e-3;
// The real-time estimate: a 168 MHz Cortex-M4 class part (e.g. STM32F4) at an assumed 1.2
// cycles per instruction (loads, multiplies and taken branches cost more than one cycle; QEMU
// counts instructions only).
constexpr double kClockHz = 168e6;
constexpr double kCyclesPerInstruction = 1.2;
constexpr std::size_t kChunkSamples = 512;  // PCM converted to float this many samples at a time

alignas(16) std::uint8_t g_arena[MICRONET_AD_ARENA_BYTES];
// Large objects live in zeroed storage (.bss), constructed at run time: as initialised globals
// their default member values would need an image in .data (flash).
alignas(Model) std::uint8_t g_model_storage[sizeof(Model)];
alignas(Interpreter) std::uint8_t g_interpreter_storage[sizeof(Interpreter)];
alignas(Frontend) std::uint8_t g_frontend_storage[sizeof(Frontend)];
alignas(Window) std::uint8_t g_window_storage[sizeof(Window)];
alignas(board::PortableRealFft) std::uint8_t g_fft_storage[sizeof(board::PortableRealFft)];
Model& g_model = *::new (static_cast<void*>(g_model_storage)) Model();
Interpreter& g_interpreter = *::new (static_cast<void*>(g_interpreter_storage)) Interpreter();

std::int8_t g_inputs[kWindows][kInputBytes];  // the device's windows, kept for the comparison
float g_samples[kChunkSamples];
float g_fft_probe[micronet_ad::kFrameLength], g_fft_probe_out[2 * micronet_ad::kSpectrumBins];
double g_patch_error = 0.0;  // max |device patch − golden patch| in quantization steps

float golden_patch(int window, int element) {
  float value;  // the blob is bytes: copy, no aliasing through a float pointer
  std::memcpy(&value, kClipPatches + (static_cast<std::size_t>(window) * kInputBytes + element) * sizeof(float),
              sizeof(float));
  return value;
}

// Keeps a popped window's int8 input and the patch's distance from the golden one.
void keep_window(const Window& w, micronet_ad::InputQuantization q) {
  if (w.index < 0 || w.index >= kWindows) return;
  std::memcpy(g_inputs[w.index], w.input, kInputBytes);
  for (int i = 0; i < kInputBytes; ++i) {
    const double steps = std::fabs(static_cast<double>(w.patch[i]) - golden_patch(static_cast<int>(w.index), i)) /
                         static_cast<double>(q.scale);
    if (!(steps <= g_patch_error)) g_patch_error = steps;  // NaN sticks
  }
}

// The whole clip through the front end; returns the windows completed (negative on error).
int run_frontend(Frontend& frontend, Window& window, micronet_ad::InputQuantization q) {
  const std::size_t samples = kClipPcm_size / 2;
  for (std::size_t begin = 0; begin < samples; begin += kChunkSamples) {
    const std::size_t count = samples - begin < kChunkSamples ? samples - begin : kChunkSamples;
    for (std::size_t i = 0; i < count; ++i) {  // int16 little-endian → int16 scale (x/32768), as the host reads WAV
      const std::uint8_t* p = kClipPcm + 2 * (begin + i);
      const auto sample = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
      g_samples[i] = static_cast<float>(sample) * (1.0f / 32768.0f);
    }
    for (std::size_t done = 0; done < count;) {
      done += frontend.push(g_samples + done, count - done);
      while (frontend.pop_window(&window)) keep_window(window, q);
    }
  }
  const Status finished = frontend.finish();
  if (!finished.ok()) {
    std::printf("FAIL: Frontend::finish: %s\n", finished.message());
    return -1;
  }
  while (frontend.pop_window(&window)) keep_window(window, q);
  return static_cast<int>(frontend.windows_completed());
}

double distance_to_rounding_boundary(double x, micronet_ad::InputQuantization q) {
  const double v = x / static_cast<double>(q.scale) + q.zero_point;
  return std::fabs(v - std::floor(v) - 0.5);
}

struct InputComparison {
  int differing = 0, unexplained = 0, max_diff = 0;
  bool window_equal[kWindows] = {};
};

InputComparison compare_inputs(micronet_ad::InputQuantization q) {
  InputComparison c;
  for (int k = 0; k < kWindows; ++k) {
    c.window_equal[k] = true;
    for (int i = 0; i < kInputBytes; ++i) {
      const int got = g_inputs[k][i];
      const int want = static_cast<std::int8_t>(kClipInputs[k * kInputBytes + i]);
      if (got == want) continue;
      c.window_equal[k] = false;
      ++c.differing;
      const int diff = got > want ? got - want : want - got;
      if (diff > c.max_diff) c.max_diff = diff;
      const double boundary = distance_to_rounding_boundary(golden_patch(k, i), q);
      if (diff == 1 && boundary < kBoundaryMargin) continue;
      if (++c.unexplained <= 5)
        std::printf("window %d element %d: %d vs golden %d (golden patch %.7g, %.3g steps from a rounding boundary)\n",
                    k, i, got, want, static_cast<double>(golden_patch(k, i)), boundary);
    }
  }
  return c;
}

}  // namespace

int main() {
  board::paint_stack();
  board::systick_start();
  std::printf("micronet-ad clip end to end: %s on %s, model %s\n", MICRONET_AD_CPU_NAME, MICRONET_AD_MACHINE,
              MICRONET_AD_MODEL_NAME);
  const double ipt = board::calibrate_instructions_per_tick();
  if (!(ipt > 0)) {
    std::printf("FAIL: SysTick does not advance (run QEMU with -icount shift=0)\n");
    return 1;
  }
  const std::size_t samples = kClipPcm_size / 2;
  const double seconds = static_cast<double>(samples) / micronet_ad::kSampleRateHz;
  std::printf(
      "audio: slider/test/anomaly_id_00_00000000.wav, %u int16 samples (%.2f s at %d Hz) embedded without "
      "the WAV header\n",
      static_cast<unsigned>(samples), seconds, micronet_ad::kSampleRateHz);
  if (kClipInputs_size != kWindows * kInputBytes || kClipExpected_size != kWindows * kOutputBytes ||
      kClipPatches_size != kWindows * kInputBytes * sizeof(float)) {
    std::printf("FAIL: embedded golden data sizes are not 13 windows\n");
    return 1;
  }

  Status status = Model::load(kModel, kModel_size, &g_model);
  if (!status.ok()) {
    std::printf("FAIL: Model::load: %s\n", status.message());
    return 1;
  }
  micronet_ad::InterpreterOptions options;
  options.band_fusion = true;
  if (!micronet_ad::parse_kernel_set(MICRONET_AD_KERNELS, &options.kernels)) {
    std::printf("FAIL: MICRONET_AD_KERNELS=%s is not a kernel set\n", MICRONET_AD_KERNELS);
    return 1;
  }
  status = g_interpreter.init(g_model, g_arena, sizeof(g_arena), options);
  if (!status.ok()) {
    std::printf("FAIL: Interpreter::init: %s\n", status.message());
    return 1;
  }
  if (g_interpreter.input_bytes() != kInputBytes || g_interpreter.output_bytes() != kOutputBytes) {
    std::printf("FAIL: the model's input/output is not 1024/8 bytes\n");
    return 1;
  }
  const micronet_ad::TensorInfo input = g_model.tensor(g_model.input_tensor());
  micronet_ad::FrontendConfig config;
  config.framing = micronet_ad::Framing::kCentered;
  config.resize = micronet_ad::Resize::kAverage;
  config.input = {input.scale(), input.zero_point};

  // ---- the front end, whole clip (its tables are built at init, outside the count) ----------
  auto& fft = *::new (static_cast<void*>(g_fft_storage)) board::PortableRealFft();
  auto& frontend = *::new (static_cast<void*>(g_frontend_storage)) Frontend();
  auto& window = *::new (static_cast<void*>(g_window_storage)) Window();
  status = frontend.init(config, &fft);
  if (!status.ok()) {
    std::printf("FAIL: Frontend::init: %s\n", status.message());
    return 1;
  }
  // One FFT alone (on the first 1024 samples' worth of scratch), to split the front end's cost.
  std::uint64_t t0 = board::ticks();
  fft.forward(g_fft_probe, g_fft_probe_out);
  const double fft_instructions = static_cast<double>(board::ticks() - t0) * ipt;
  t0 = board::ticks();
  const int windows = run_frontend(frontend, window, config.input);
  const double frontend_instructions = static_cast<double>(board::ticks() - t0) * ipt;
  if (windows < 0) return 1;
  const long frames = static_cast<long>(frontend.frames_computed());
  std::printf(
      "frontend: centered framing, 2x2 average, input scale %g zero point %d: %ld frames, %d windows; "
      "~%.0f instructions for the clip (~%.0f per frame, of which the 1024-point real FFT ~%.0f)\n",
      static_cast<double>(config.input.scale), static_cast<int>(config.input.zero_point), frames, windows,
      frontend_instructions, frames > 0 ? frontend_instructions / frames : 0.0, fft_instructions);
  if (windows != kWindows) {
    std::printf("FAIL: %d windows, the golden data has %d\n", windows, kWindows);
    return 1;
  }
  const InputComparison inputs = compare_inputs(config.input);
  std::printf(
      "windows: %d of %d int8 bytes differ from the golden windows (max |diff| %d), %d not at a rounding "
      "boundary; patches max |diff| %.3g quantization steps (margin %.0e)\n",
      inputs.differing, kWindows * kInputBytes, inputs.max_diff, inputs.unexplained, g_patch_error, kBoundaryMargin);

  // ---- the 13 inferences -------------------------------------------------------------------
  double inference_instructions = 0, min_instructions = 0, max_instructions = 0;
  int outputs_equal = 0, outputs_required = 0, outputs_unequal_required = 0, max_output_diff = 0;
  for (int k = 0; k < kWindows; ++k) {
    std::memcpy(g_interpreter.input(), g_inputs[k], kInputBytes);
    t0 = board::ticks();
    status = g_interpreter.invoke();
    const double instructions = static_cast<double>(board::ticks() - t0) * ipt;
    if (!status.ok()) {
      std::printf("FAIL: invoke: %s\n", status.message());
      return 1;
    }
    inference_instructions += instructions;
    if (k == 0 || instructions < min_instructions) min_instructions = instructions;
    if (instructions > max_instructions) max_instructions = instructions;
    const std::int8_t* got = g_interpreter.output();
    const bool equal = std::memcmp(got, kClipExpected + k * kOutputBytes, kOutputBytes) == 0;
    for (int j = 0; j < kOutputBytes; ++j) {
      const int diff = got[j] - static_cast<std::int8_t>(kClipExpected[k * kOutputBytes + j]);
      if ((diff < 0 ? -diff : diff) > max_output_diff) max_output_diff = diff < 0 ? -diff : diff;
    }
    outputs_equal += equal;
    // Only a window with the golden input bytes must give the golden output bytes.
    if (inputs.window_equal[k]) {
      ++outputs_required;
      if (!equal) ++outputs_unequal_required;
    }
    if (!equal) {
      std::printf("output %2d:", k);
      for (int j = 0; j < kOutputBytes; ++j) std::printf(" %4d", got[j]);
      std::printf("  golden");
      for (int j = 0; j < kOutputBytes; ++j)
        std::printf(" %4d", static_cast<std::int8_t>(kClipExpected[k * kOutputBytes + j]));
      std::printf("%s\n", inputs.window_equal[k] ? "  MISMATCH" : "  (input differs at a rounding boundary)");
    }
  }
  std::printf(
      "inference: kernels %s, %d runs, ~%.0f instructions per inference (min %.0f, max %.0f), ~%.0f in all; "
      "%d/%d outputs byte-equal to golden (max |diff| %d)\n",
      micronet_ad::kernel_set_name(g_interpreter.kernel_set()), kWindows, inference_instructions / kWindows,
      min_instructions, max_instructions, inference_instructions, outputs_equal, kWindows, max_output_diff);

  // ---- end to end --------------------------------------------------------------------------
  const double total = frontend_instructions + inference_instructions;
  const double busy_seconds = total * kCyclesPerInstruction / kClockHz;
  std::printf("end-to-end: ~%.0f instructions for %.2f s of audio (front end %.1f%%, inference %.1f%%)\n", total,
              seconds, 100.0 * frontend_instructions / total, 100.0 * inference_instructions / total);
  std::printf(
      "real time: at %.0f MHz assuming %.1f cycles per instruction (QEMU counts instructions, not cycles): "
      "%.3f s of compute for %.2f s of audio, real-time factor %.4f (front end %.4f, inference %.4f)\n",
      kClockHz / 1e6, kCyclesPerInstruction, busy_seconds, seconds, busy_seconds / seconds,
      frontend_instructions * kCyclesPerInstruction / kClockHz / seconds,
      inference_instructions * kCyclesPerInstruction / kClockHz / seconds);
  std::printf(
      "memory: arena %u bytes, front end object %u bytes, FFT object %u bytes, stack peak %u of %u bytes, "
      "libc heap %u bytes\n",
      static_cast<unsigned>(sizeof(g_arena)), static_cast<unsigned>(sizeof(Frontend)),
      static_cast<unsigned>(sizeof(board::PortableRealFft)),
      static_cast<unsigned>(board::stack_used(MICRONET_AD_STACK_BYTES)), static_cast<unsigned>(MICRONET_AD_STACK_BYTES),
      static_cast<unsigned>(heap_used()));

  const bool patches_ok = g_patch_error < kBoundaryMargin;  // false for NaN
  if (inputs.unexplained != 0 || !patches_ok || outputs_unequal_required != 0) {
    std::printf(
        "FAIL: %d input bytes differ beyond a rounding boundary, patch error %.3g steps (limit %.0e), %d of %d "
        "windows with golden inputs give other outputs\n",
        inputs.unexplained, g_patch_error, kBoundaryMargin, outputs_unequal_required, outputs_required);
    return 1;
  }
  std::printf("PASS: clip end to end: %d/%d windows byte-equal to the golden windows", outputs_required, kWindows);
  if (inputs.differing > 0) std::printf(" (%d bytes differ by 1, all at .5 rounding boundaries)", inputs.differing);
  std::printf(", %d/%d outputs byte-equal to the golden outputs\n", outputs_equal, kWindows);
  return 0;
}
