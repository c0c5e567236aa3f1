/* Minimal Cortex-M startup for the QEMU MPS2/MPS3 machines: vector table, reset handler
 * (copy .data, zero .bss, enable the FPU/MVE, run constructors, main, exit), a SysTick overflow
 * counter and a fault handler that reports over semihosting and stops QEMU with an error. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __StackTop[];
extern uint32_t __etext[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
extern char __HeapBase[], __HeapLimit[];

extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);

volatile uint32_t g_systick_wraps;

__attribute__((section(".vectors"), used)) void (*const g_vectors[16])(void) = {
    (void (*)(void))__StackTop, /* initial SP */
    Reset_Handler,
    Default_Handler, /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage */
    Fault_Handler,   /* BusFault */
    Fault_Handler,   /* UsageFault */
    Fault_Handler,   /* SecureFault (v8-M) */
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};

#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)

__attribute__((noreturn)) void Reset_Handler(void) {
  /* CP10/CP11 full access: the FPU (and MVE on the M55) before any floating-point code. */
  SCB_CPACR |= (0xFu << 20);
  __asm volatile("dsb\n isb" ::: "memory");
  const uint32_t* src = __etext;
  for (uint32_t* dst = __data_start__; dst < __data_end__;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

/* -nostartfiles drops crti/crtn; constructors run through .init_array, so these are empty. */
void _init(void) {}
void _fini(void) {}

void SysTick_Handler(void) { g_systick_wraps = g_systick_wraps + 1; }

/* Semihosting straight from the fault handler: no libc state is trusted there. */
static void semihost(uint32_t op, const void* arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void* r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

__attribute__((noreturn)) static void stop(const char* message) {
  semihost(0x04 /* SYS_WRITE0 */, message);
  for (;;) semihost(0x18 /* SYS_EXIT */, (const void*)0x20023 /* ADP_Stopped_RunTimeErrorUnknown */);
}

void Fault_Handler(void) { stop("FAIL: fault exception\n"); }
void Default_Handler(void) { stop("FAIL: unexpected exception\n"); }

/* newlib's malloc (stdio buffers) takes memory from the fixed .heap region only. */
void* _sbrk(ptrdiff_t increment) {
  static char* heap_end = __HeapBase;
  if (increment < 0 || increment > __HeapLimit - heap_end) {
    errno = ENOMEM;
    return (void*)-1;
  }
  char* previous = heap_end;
  heap_end += increment;
  return previous;
}

size_t heap_used(void) {
  /* Distance from the heap base to the current break. */
  return (size_t)((char*)_sbrk(0) - __HeapBase);
}
