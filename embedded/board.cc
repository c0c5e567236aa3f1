#include "board.h"

extern "C" {
extern volatile std::uint32_t g_systick_wraps;  // startup.c's SysTick_Handler
extern std::uint32_t __StackLimit[];            // linker script: lowest stack address
}

namespace board {
namespace {

volatile std::uint32_t& reg(std::uint32_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }
constexpr std::uint32_t kSystCsr = 0xE000E010, kSystRvr = 0xE000E014, kSystCvr = 0xE000E018;
constexpr std::uint32_t kSysTickMax = 0xFFFFFF;
constexpr std::uint32_t kPaint = 0x5AA5C33Cu;

// Executes exactly 2·n instructions (subs + bne per iteration).
__attribute__((noinline)) void spin(std::uint32_t n) {
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

}  // namespace

void systick_start() {
  reg(kSystRvr) = kSysTickMax;
  reg(kSystCvr) = 0;
  reg(kSystCsr) = 0x7;  // processor clock, interrupt on wrap (counts wraps), enable
  // The cleared counter reads 0 until its first tick reloads it, without a wrap interrupt: a
  // read in between would count as a full period and time would then run backwards.
  while (reg(kSystCvr) == 0) {
  }
}

std::uint64_t ticks() {
  std::uint32_t wraps, value;
  do {  // a wrap between the two reads would pair an old count with a new value
    wraps = g_systick_wraps;
    value = reg(kSystCvr);
  } while (wraps != g_systick_wraps);
  return (static_cast<std::uint64_t>(wraps) << 24) + (kSysTickMax - value);
}

double calibrate_instructions_per_tick() {
  constexpr std::uint32_t kIterations = 1u << 21;
  const std::uint64_t t0 = ticks();
  spin(kIterations);
  const std::uint64_t t1 = ticks();
  return t1 > t0 ? 2.0 * kIterations / static_cast<double>(t1 - t0) : 0.0;
}

__attribute__((noinline)) void paint_stack() {
  std::uintptr_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  const std::uintptr_t top = sp - 256;  // stay clear of this frame
  for (std::uint32_t* p = __StackLimit; reinterpret_cast<std::uintptr_t>(p) < top; ++p) *p = kPaint;
}

std::size_t stack_used(std::size_t stack_bytes) {
  const std::uint32_t* p = __StackLimit;
  while (*p == kPaint) ++p;
  return stack_bytes - static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(p) -
                                                reinterpret_cast<const std::uint8_t*>(__StackLimit));
}

}  // namespace board
