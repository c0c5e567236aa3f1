// micronet-ad firmware example: loads the embedded model with Model::load, runs the golden
// engine inputs and one real clip's 13 windows through the Interpreter in a static arena, and
// compares every output byte with the golden data. It also scores the clip's windows by distance
// from a compact machine profile (Profile::load from flash, Profile::distance of the interpreter's
// embedding) and compares them with the host's distances. Then it counts instructions per
// operator (one more inference) and runs two golden inputs through every compiled kernel level
// (reference, dsp, mve) in the same arena. The main runs use the MICRONET_AD_KERNELS set (build
// option, default auto). Output and exit code go over semihosting: exit 0 when every output of
// every run is byte-equal and every distance within tolerance, 1 otherwise.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "board.h"
#include "micronet_ad/detector.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"
#include "micronet_ad/profile.h"

// Generated at build time from ../shared (embed_bin.cmake); never committed.
extern const std::uint8_t kModel[];
extern const std::size_t kModel_size;
extern const std::uint8_t kEngineInputs[];  // N x 1024 int8, golden/engine/inputs_256x1024.i8
extern const std::size_t kEngineInputs_size;
extern const std::uint8_t kEngineExpected[];  // N x 8 int8, golden/engine/<model>_outputs_256x8.i8
extern const std::size_t kEngineExpected_size;
extern const std::uint8_t kClipInputs[];  // 13 x 1024 int8 windows of clip_slider_anomaly_id_00
extern const std::size_t kClipInputs_size;
extern const std::uint8_t kClipExpected[];  // 13 x 8 int8 TFLite Micro outputs
extern const std::size_t kClipExpected_size;
extern const std::uint8_t kProfile[];  // compact profile enrolled on the host (slider train, id_00)
extern const std::size_t kProfile_size;
extern const double kHostDistances[];  // the host's distance of each clip window from it
extern const std::size_t kHostDistances_count;
extern const double kHostClipDistance;  // the host's clip distance (as the profile aggregates)

namespace {

using micronet_ad::Interpreter;
using micronet_ad::Model;
using micronet_ad::Profile;
using micronet_ad::ScoreMethod;
using micronet_ad::Status;

// Device vs host distance, relative. The same float code (profile.cc) runs on both, but GCC
// fuses a*b + c into vfma on the Arm build (not on the x86-64 host): measured up to 1.1e-6 per
// window and 4.6e-6 for the distance of the clip's mean embedding. One int8 step in any one
// embedding element moved the last window's distance by 6.6e-3 to 0.2: a real difference shows.
constexpr double kDistanceTolerance = 1e-4;
constexpr int kMaxClipWindows = 32;
// Embedding sizes the clip-mean-embedding aggregate can sum (ad_small and ad_medium: 276).
constexpr std::uint32_t kMaxEmbedding = 512;

// The interpreter's memory, sized at build time (MICRONET_AD_ARENA_BYTES) and checked at run time.
alignas(16) std::uint8_t g_arena[MICRONET_AD_ARENA_BYTES];
// Model (~12 KB of tables) and Interpreter are constructed at run time in zeroed storage: as
// initialised globals their default member values would put a ~16 KB image into .data (flash).
alignas(Model) std::uint8_t g_model_storage[sizeof(Model)];
alignas(Interpreter) std::uint8_t g_interpreter_storage[sizeof(Interpreter)];
Model& g_model = *::new (static_cast<void*>(g_model_storage)) Model();
Interpreter& g_interpreter = *::new (static_cast<void*>(g_interpreter_storage)) Interpreter();
// The profile is a view of the flash bytes: this object (header copy + 3 pointers) is its only RAM.
alignas(Profile) std::uint8_t g_profile_storage[sizeof(Profile)];
Profile& g_profile = *::new (static_cast<void*>(g_profile_storage)) Profile();

void print_row(const char* label, int index, const std::int8_t* row, int n, bool equal) {
  std::printf("%s %3d:", label, index);
  for (int i = 0; i < n; ++i) std::printf(" %4d", row[i]);
  std::printf("  %s\n", equal ? "ok" : "MISMATCH");
}

// Scoring of the clip's windows while each one's embedding is alive (until the next invoke).
struct ClipScoring {
  const Profile* profile = nullptr;
  micronet_ad::OutputQuantization quantization;
  int output_index = 0;  // machine ID 00
  micronet_ad::ClipAccumulator accumulator;
  float distances[kMaxClipWindows] = {};
  std::uint64_t distance_ticks_min = 0, distance_ticks_max = 0;  // min: set before use
  // ProfileAggregate::kClipMeanEmbedding: the element-wise sum of the windows' int8 embeddings.
  std::int32_t embedding_sum[kMaxEmbedding] = {};
  std::int64_t embedding_windows = 0;
};
ClipScoring g_scoring;  // all zero: .bss

// Runs `count` inputs; prints each output row and returns the number of rows that differ.
// With `scoring`, also scores each window (all methods, distance from the profile).
int run_set(const char* label, const std::uint8_t* inputs, const std::uint8_t* expected, int count,
            double instructions_per_tick, std::uint64_t* total_ticks, ClipScoring* scoring = nullptr) {
  const std::size_t in_bytes = g_interpreter.input_bytes();
  const std::size_t out_bytes = g_interpreter.output_bytes();
  int mismatches = 0;
  std::uint64_t min_ticks = ~std::uint64_t{0}, max_ticks = 0;
  for (int i = 0; i < count; ++i) {
    std::memcpy(g_interpreter.input(), inputs + static_cast<std::size_t>(i) * in_bytes, in_bytes);
    const std::uint64_t t0 = board::ticks();
    const Status status = g_interpreter.invoke();
    const std::uint64_t dt = board::ticks() - t0;
    if (!status.ok()) {
      std::printf("%s %d: invoke failed: %s\n", label, i, status.message());
      return count;
    }
    *total_ticks += dt;
    if (dt < min_ticks) min_ticks = dt;
    if (dt > max_ticks) max_ticks = dt;
    const std::uint8_t* want = expected + static_cast<std::size_t>(i) * out_bytes;
    const bool equal = std::memcmp(g_interpreter.output(), want, out_bytes) == 0;
    if (!equal) ++mismatches;
    print_row(label, i, g_interpreter.output(), static_cast<int>(out_bytes), equal);
    if (scoring != nullptr && i < kMaxClipWindows) {
      const std::int8_t* embedding = g_interpreter.embedding();
      const std::uint64_t d0 = board::ticks();
      scoring->distances[i] = scoring->profile->distance(embedding);
      const std::uint64_t ddt = board::ticks() - d0;
      if (ddt < scoring->distance_ticks_min) scoring->distance_ticks_min = ddt;
      if (ddt > scoring->distance_ticks_max) scoring->distance_ticks_max = ddt;
      const std::int8_t* logits = g_interpreter.output();
      scoring->accumulator.add(logits, micronet_ad::score_window(logits, scoring->quantization, scoring->output_index,
                                                                 scoring->profile, embedding));
      const micronet_ad::ProfileHeader& h = scoring->profile->header();
      if (h.aggregate == micronet_ad::ProfileAggregate::kClipMeanEmbedding) {
        for (std::uint32_t j = 0; j < h.embedding_size; ++j) scoring->embedding_sum[j] += embedding[j];
        ++scoring->embedding_windows;
      }
    }
  }
  std::printf("%s: %d/%d outputs byte-equal; SysTick ticks per inference min %lu max %lu", label, count - mismatches,
              count, static_cast<unsigned long>(min_ticks), static_cast<unsigned long>(max_ticks));
  if (instructions_per_tick > 0)
    std::printf(" (~%.0f instructions)", static_cast<double>(max_ticks) * instructions_per_tick);
  std::printf("\n");
  return mismatches;
}

// ---- per-operator instruction counts ---------------------------------------------------------
// SysTick between observer callbacks. With band fusion the first op of a fused pair runs inside
// the second and gets no callback: the gap before the second's callback holds both.
struct OpTimes {
  std::uint64_t last = 0;
  std::uint64_t ticks[micronet_ad::kMaxOperators] = {};
  bool observed[micronet_ad::kMaxOperators] = {};
  void clear() {  // in place: `= OpTimes{}` would build a 1.2 KB temporary on the stack
    last = 0;
    for (int i = 0; i < micronet_ad::kMaxOperators; ++i) {
      ticks[i] = 0;
      observed[i] = false;
    }
  }
};
OpTimes g_op_times;  // .bss

void record_op(void* context, int op_index, const micronet_ad::TensorInfo&, const std::int8_t*) {
  OpTimes& times = *static_cast<OpTimes*>(context);
  times.ticks[op_index] = board::ticks() - times.last;
  times.observed[op_index] = true;
  times.last = board::ticks();  // the callback's own cost is nobody's
}

// One inference of `input` with the observer; prints a row per observed op (or fused run of ops).
// Returns false when the invoke fails.
bool print_op_profile(const std::uint8_t* input, double instructions_per_tick) {
  OpTimes& times = g_op_times;
  times.clear();
  std::memcpy(g_interpreter.input(), input, g_interpreter.input_bytes());
  g_interpreter.set_observer(record_op, &times);
  times.last = board::ticks();
  const Status status = g_interpreter.invoke();
  g_interpreter.set_observer(nullptr, nullptr);
  if (!status.ok()) {
    std::printf("ops: invoke failed: %s\n", status.message());
    return false;
  }
  std::printf(
      "ops: instructions per operator (one inference, kernels %s; band fusion gives the first op of a "
      "fused pair no callback, so \"op a+b\" is both)\n",
      micronet_ad::kernel_set_name(g_interpreter.kernel_set()));
  std::printf("ops:  op      type                        MACs  instructions  instr/MAC\n");
  std::int64_t total_macs = 0;
  double total_instructions = 0;
  int first = 0;  // first op of the run that ends at the next observed op
  for (int i = 0; i < g_model.num_operators(); ++i) {
    if (!times.observed[i]) continue;
    std::int64_t macs = 0;
    char label[16], type[48];
    for (int j = first; j <= i; ++j) macs += g_model.op(j).macs;
    if (first == i) {
      std::snprintf(label, sizeof(label), "%d", i);
      std::snprintf(type, sizeof(type), "%s", micronet_ad::op_name(g_model.op(i).type));
    } else {
      std::snprintf(label, sizeof(label), "%d+%d", first, i);  // fused: ops first..i
      std::snprintf(type, sizeof(type), "%s+%s", micronet_ad::op_name(g_model.op(first).type),
                    micronet_ad::op_name(g_model.op(i).type));
    }
    const double instructions = static_cast<double>(times.ticks[i]) * instructions_per_tick;
    std::printf("ops:  %-6s  %-25s %9ld  %12.0f", label, type, static_cast<long>(macs), instructions);
    if (macs > 0)
      std::printf("  %9.2f\n", instructions / static_cast<double>(macs));
    else
      std::printf("          -\n");
    total_macs += macs;
    total_instructions += instructions;
    first = i + 1;
  }
  std::printf("ops:  total   %-25s %9ld  %12.0f  %9.2f\n", "", static_cast<long>(total_macs), total_instructions,
              total_macs > 0 ? total_instructions / static_cast<double>(total_macs) : 0.0);
  return true;
}

// ---- every compiled kernel level on the same inputs --------------------------------------------
struct LevelResult {
  micronet_ad::KernelSet set;
  bool run = false;  // compiled, supported and initialised
  int equal = 0, count = 0;
  double instructions = 0;  // per inference, mean
};

// Re-initialises the interpreter with `set` in the same arena and runs `count` golden inputs:
// byte-equality and mean instructions per inference.
LevelResult run_level(micronet_ad::KernelSet set, micronet_ad::InterpreterOptions options, int count,
                      double instructions_per_tick) {
  LevelResult result;
  result.set = set;
  result.count = count;
  const char* name = micronet_ad::kernel_set_name(set);
  if (!Interpreter::kernel_set_supported(set)) {
    std::printf("level %-9s: not in this build or CPU\n", name);
    return result;
  }
  options.kernels = set;
  const Status status = g_interpreter.init(g_model, g_arena, sizeof(g_arena), options);
  if (!status.ok()) {
    std::printf("level %-9s: Interpreter::init: %s\n", name, status.message());
    return result;
  }
  const std::size_t in_bytes = g_interpreter.input_bytes(), out_bytes = g_interpreter.output_bytes();
  std::uint64_t total_ticks = 0;
  for (int i = 0; i < count; ++i) {
    std::memcpy(g_interpreter.input(), kEngineInputs + static_cast<std::size_t>(i) * in_bytes, in_bytes);
    const std::uint64_t t0 = board::ticks();
    const Status invoked = g_interpreter.invoke();
    total_ticks += board::ticks() - t0;
    if (!invoked.ok()) {
      std::printf("level %-9s: invoke failed: %s\n", name, invoked.message());
      return result;
    }
    if (std::memcmp(g_interpreter.output(), kEngineExpected + static_cast<std::size_t>(i) * out_bytes, out_bytes) == 0)
      ++result.equal;
  }
  result.run = true;
  result.instructions = static_cast<double>(total_ticks) / count * instructions_per_tick;
  return result;
}

// Every level this build has, `count` golden inputs each; prints one line per level. Returns the
// number of levels that ran and differed from the golden outputs (or failed to run).
int compare_levels(const micronet_ad::InterpreterOptions& options, int count, double instructions_per_tick) {
  using micronet_ad::KernelSet;
  const KernelSet sets[] = {KernelSet::kReference, KernelSet::kArmDsp, KernelSet::kArmMve};
  LevelResult results[3];
  int failures = 0;
  double reference = 0;
  for (int l = 0; l < 3; ++l) {
    results[l] = run_level(sets[l], options, count, instructions_per_tick);
    const LevelResult& r = results[l];
    if (!r.run) {
      if (Interpreter::kernel_set_supported(sets[l])) ++failures;  // supported but did not run
      continue;
    }
    if (sets[l] == KernelSet::kReference) reference = r.instructions;
    if (r.equal != r.count) ++failures;
    std::printf("level %-9s: %d/%d golden outputs byte-equal; ~%.0f instructions per inference",
                micronet_ad::kernel_set_name(r.set), r.equal, r.count, r.instructions);
    if (sets[l] != KernelSet::kReference && reference > 0 && r.instructions > 0)
      std::printf(" (%.2fx faster than reference)", reference / r.instructions);
    std::printf("  %s\n", r.equal == r.count ? "ok" : "MISMATCH");
  }
  std::printf("levels:");
  for (const LevelResult& r : results)
    if (r.run) std::printf(" %s %.2f M", micronet_ad::kernel_set_name(r.set), r.instructions / 1e6);
  std::printf(" instructions per inference (%s)\n", MICRONET_AD_CPU_NAME);
  return failures;
}

}  // namespace

int main() {
  board::paint_stack();
  board::systick_start();
  std::printf("micronet-ad firmware: %s on %s, model %s (%u bytes)\n", MICRONET_AD_CPU_NAME, MICRONET_AD_MACHINE,
              MICRONET_AD_MODEL_NAME, static_cast<unsigned>(kModel_size));
  const double ipt = board::calibrate_instructions_per_tick();
  std::printf(
      "timing: SysTick on the processor clock; %.3f instructions per tick measured "
      "(QEMU -icount: instruction counts, not real cycles)\n",
      ipt);

  std::uint64_t t0 = board::ticks();
  Status status = Model::load(kModel, kModel_size, &g_model);
  const std::uint64_t load_ticks = board::ticks() - t0;
  if (!status.ok()) {
    std::printf("FAIL: Model::load: %s\n", status.message());
    return 1;
  }
  // Row-band execution of convolution pairs: the same bytes in a smaller arena (the per-operator
  // timing reads no tensor, so nothing needs every tensor whole).
  micronet_ad::InterpreterOptions options;
  options.band_fusion = true;
  // The main run's kernels: MICRONET_AD_KERNELS at build time (the device's --kernels).
  if (!micronet_ad::parse_kernel_set(MICRONET_AD_KERNELS, &options.kernels) ||
      !Interpreter::kernel_set_supported(options.kernels)) {
    std::printf("FAIL: MICRONET_AD_KERNELS=%s is not a kernel set this build and CPU run\n", MICRONET_AD_KERNELS);
    return 1;
  }
  const std::size_t required = Interpreter::required_memory(g_model, options);
  std::printf(
      "model: %d tensors, %d operators, %lu MACs, arena %u bytes with band fusion (%u layer at a "
      "time), interpreter memory %u of %u bytes; Model::load %lu ticks\n",
      g_model.num_tensors(), g_model.num_operators(), static_cast<unsigned long>(g_model.total_macs()),
      static_cast<unsigned>(Interpreter::arena_bytes(g_model, true)), static_cast<unsigned>(g_model.arena_bytes()),
      static_cast<unsigned>(required), static_cast<unsigned>(sizeof(g_arena)), static_cast<unsigned long>(load_ticks));
  if (required > sizeof(g_arena)) {
    std::printf(
        "FAIL: the interpreter needs %u bytes, the static arena has %u (raise "
        "MICRONET_AD_ARENA_BYTES)\n",
        static_cast<unsigned>(required), static_cast<unsigned>(sizeof(g_arena)));
    return 1;
  }
  t0 = board::ticks();
  status = g_interpreter.init(g_model, g_arena, sizeof(g_arena), options);
  const std::uint64_t init_ticks = board::ticks() - t0;
  if (!status.ok()) {
    std::printf("FAIL: Interpreter::init: %s\n", status.message());
    return 1;
  }
  std::printf("interpreter: kernels %s (MICRONET_AD_KERNELS=%s); %d convolution pairs in row bands; init %lu ticks\n",
              micronet_ad::kernel_set_name(g_interpreter.kernel_set()), MICRONET_AD_KERNELS,
              g_interpreter.fused_pairs(), static_cast<unsigned long>(init_ticks));

  // The machine profile: a validated view of the flash bytes, made for this model's embedding.
  t0 = board::ticks();
  status = Profile::load(kProfile, kProfile_size, &g_profile);
  const std::uint64_t profile_ticks = board::ticks() - t0;
  if (!status.ok()) {
    std::printf("FAIL: Profile::load: %s\n", status.message());
    return 1;
  }
  const micronet_ad::ProfileHeader& ph = g_profile.header();
  if (g_model.embedding_tensor() < 0 || g_interpreter.embedding() == nullptr) {
    std::printf("FAIL: the model has no embedding tensor (no CONV_2D) to score by distance\n");
    return 1;
  }
  const micronet_ad::TensorInfo emb = g_model.tensor(g_model.embedding_tensor());
  if (ph.embedding_size != g_interpreter.embedding_bytes() || ph.embedding_size > kMaxEmbedding ||
      ph.embedding_scale != emb.scale() || ph.embedding_zero_point != emb.zero_point ||
      ph.framing != micronet_ad::Framing::kCentered || ph.resize != micronet_ad::Resize::kAverage) {
    std::printf(
        "FAIL: profile '%s' (D %u, %g/%d, %s, %s) was not made for this model's embedding (D %u, %g/%d) "
        "and the clip's centered/average windows\n",
        ph.name, static_cast<unsigned>(ph.embedding_size), static_cast<double>(ph.embedding_scale),
        static_cast<int>(ph.embedding_zero_point), micronet_ad::to_string(ph.framing),
        micronet_ad::to_string(ph.resize), static_cast<unsigned>(g_interpreter.embedding_bytes()),
        static_cast<double>(emb.scale()), static_cast<int>(emb.zero_point));
    return 1;
  }
  const bool mean_embedding = ph.aggregate == micronet_ad::ProfileAggregate::kClipMeanEmbedding;
  std::printf(
      "profile: '%s', rank %u of D %u, clip distance = %s, %u bytes in flash, view object %u bytes of "
      "RAM; Profile::load (checksum, checks) %lu ticks\n",
      ph.name, static_cast<unsigned>(ph.rank), static_cast<unsigned>(ph.embedding_size),
      mean_embedding ? "distance of the mean embedding" : "mean window distance", static_cast<unsigned>(kProfile_size),
      static_cast<unsigned>(sizeof(Profile)), static_cast<unsigned long>(profile_ticks));
  const std::size_t in_bytes = g_interpreter.input_bytes(), out_bytes = g_interpreter.output_bytes();
  const int engine_count = static_cast<int>(kEngineInputs_size / in_bytes);
  const int clip_count = static_cast<int>(kClipInputs_size / in_bytes);
  if (in_bytes != 1024 || out_bytes != 8 || kEngineExpected_size != engine_count * out_bytes ||
      kClipExpected_size != clip_count * out_bytes || clip_count > kMaxClipWindows ||
      kHostDistances_count != static_cast<std::size_t>(clip_count)) {
    std::printf("FAIL: embedded data sizes do not match the model (%u in, %u out)\n", static_cast<unsigned>(in_bytes),
                static_cast<unsigned>(out_bytes));
    return 1;
  }

  std::uint64_t total_ticks = 0;
  int mismatches = run_set("golden", kEngineInputs, kEngineExpected, engine_count, ipt, &total_ticks);
  // The clip's windows are scored as they run (docs/scores.md, docs/enrolment.md): machine ID 00 = output 0, and
  // distance from the profile of the embedding each invoke leaves.
  ClipScoring& scoring = g_scoring;
  const micronet_ad::TensorInfo out = g_model.tensor(g_model.output_tensor());
  scoring.profile = &g_profile;
  scoring.quantization = {out.scale(), out.zero_point};
  scoring.distance_ticks_min = ~std::uint64_t{0};
  mismatches += run_set("clip", kClipInputs, kClipExpected, clip_count, ipt, &total_ticks, &scoring);
  const micronet_ad::ClipScore score = scoring.accumulator.result();
  // The clip's distance as the profile aggregates it (as Detector::result does).
  const double clip_distance =
      mean_embedding ? static_cast<double>(g_profile.distance_of_sum(scoring.embedding_sum, scoring.embedding_windows))
                     : score[ScoreMethod::kDistance];
  std::printf("clip slider anomaly_id_00 (machine ID 00): %d windows, neg_softmax %.6f, nll %.6f, distance %.6f\n",
              static_cast<int>(score.windows), score[ScoreMethod::kNegSoftmax], score[ScoreMethod::kNll],
              clip_distance);

  // Device vs host distances (relative difference).
  int window_mismatches = 0;
  double max_relative = 0.0;
  auto relative = [](double device, double host) {
    const double diff = device > host ? device - host : host - device;
    return diff / (host > 0 ? host : -host);
  };
  for (int i = 0; i < clip_count; ++i) {
    const double rel = relative(scoring.distances[i], kHostDistances[i]);
    const bool ok = rel <= kDistanceTolerance;  // false for NaN
    if (!ok) ++window_mismatches;
    if (!(rel <= max_relative)) max_relative = rel;
    std::printf("dist  %3d: device %.9g host %.9g relative difference %.3g  %s\n", i,
                static_cast<double>(scoring.distances[i]), kHostDistances[i], rel, ok ? "ok" : "MISMATCH");
  }
  const double clip_relative = relative(clip_distance, kHostClipDistance);
  const bool clip_ok = clip_relative <= kDistanceTolerance;
  const int distance_mismatches = window_mismatches + (clip_ok ? 0 : 1);
  std::printf(
      "distance: %d/%d windows within relative %.0e of the host's (max relative difference %.3g); clip "
      "device %.9g host %.9g relative difference %.3g  %s\n",
      clip_count - window_mismatches, clip_count, kDistanceTolerance, max_relative, clip_distance, kHostClipDistance,
      clip_relative, clip_ok ? "ok" : "MISMATCH");
  std::printf("distance: Profile::distance SysTick ticks per window min %lu max %lu",
              static_cast<unsigned long>(scoring.distance_ticks_min),
              static_cast<unsigned long>(scoring.distance_ticks_max));
  if (ipt > 0)
    std::printf(" (~%.0f instructions; %u multiply-adds)", static_cast<double>(scoring.distance_ticks_max) * ipt,
                static_cast<unsigned>((ph.rank + 1) * ph.embedding_size));
  std::printf("\n");

  const int inferences = engine_count + clip_count;
  std::printf("inference: %d runs, mean %lu SysTick ticks", inferences,
              static_cast<unsigned long>(total_ticks / static_cast<std::uint64_t>(inferences)));
  if (ipt > 0)
    std::printf(" = ~%.0f instructions (QEMU count, not real timing)",
                static_cast<double>(total_ticks) / inferences * ipt);
  std::printf("\n");
  // Where the instructions go, then every compiled level side by side (the main run above stays
  // on MICRONET_AD_KERNELS); the interpreter is re-initialised per level in the same arena.
  const bool profiled = ipt > 0 && print_op_profile(kEngineInputs, ipt);
  constexpr int kLevelInputs = 2;
  const int level_failures = compare_levels(options, engine_count < kLevelInputs ? engine_count : kLevelInputs, ipt);
  std::printf("memory: arena %u bytes (interpreter needs %u), stack peak %u of %u bytes, libc heap %u bytes\n",
              static_cast<unsigned>(sizeof(g_arena)), static_cast<unsigned>(required),
              static_cast<unsigned>(board::stack_used(MICRONET_AD_STACK_BYTES)),
              static_cast<unsigned>(MICRONET_AD_STACK_BYTES), static_cast<unsigned>(heap_used()));
  if (mismatches != 0 || distance_mismatches != 0 || level_failures != 0 || !profiled) {
    std::printf(
        "FAIL: %d of %d outputs differ from the golden data, %d of %d distances from the host's, %d kernel "
        "levels differ or did not run%s\n",
        mismatches, inferences, distance_mismatches, clip_count + 1, level_failures,
        profiled ? "" : ", no per-operator counts");
    return 1;
  }
  std::printf(
      "PASS: %d of %d outputs byte-equal to the golden data; %d window distances and the clip's within "
      "relative %.0e of the host's; every compiled kernel level byte-equal\n",
      inferences, inferences, clip_count, kDistanceTolerance);
  return 0;
}
