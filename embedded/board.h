// What every firmware program of this folder needs from the QEMU boards (mps2-an386, mps3-an547):
// a 64-bit instruction clock from SysTick, the stack's high-water mark and the libc heap in use.
// QEMU models no DWT cycle counter; under `qemu -icount shift=0` virtual time advances 1 ns per
// instruction, so SysTick ticks times calibrate_instructions_per_tick() count instructions.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" std::size_t heap_used(void);  // startup.c: bytes newlib's malloc took from .heap

namespace board {

// SysTick on the processor clock, full 24-bit reload; startup.c's handler counts the wraps.
void systick_start();
// Ticks since systick_start(), 64-bit.
std::uint64_t ticks();
// Instructions per SysTick tick, measured on a loop of known length (exact under -icount
// shift=0, meaningless without it). 0 if the clock did not move.
double calibrate_instructions_per_tick();

// Fills the unused stack with a pattern; call first thing in main().
void paint_stack();
// Bytes of the `stack_bytes` stack ever written since paint_stack().
std::size_t stack_used(std::size_t stack_bytes);

}  // namespace board
