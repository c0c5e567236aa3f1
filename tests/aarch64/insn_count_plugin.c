/* A QEMU TCG plugin that counts the guest instructions a program executes and prints
 * "insns: N" at exit (with -d plugin). Debian's qemu-user 7.2 runs plugins (-plugin) but ships
 * neither its example plugins (libinsn.so) nor qemu-plugin.h, so the few calls of the plugin API
 * (version 1, QEMU 7.x) this needs are declared here. Built with the host's cc by
 * scripts/aarch64.sh (INSN_COUNTS=1):
 *   cc -shared -fPIC -O2 -o libinsn_count.so insn_count_plugin.c
 *   qemu-aarch64 -cpu max -plugin ./libinsn_count.so -d plugin ./golden ...
 * Each translated block adds its instruction count to one counter each time it runs (an inline
 * add, no callback): the count is exact for the program, deterministic, and not a time. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t id, void* userdata),
                                    void* userdata);
void qemu_plugin_outs(const char* string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t insns; /* user mode, one vCPU: the programs here are single-threaded */

static void tb_translated(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  char line[64];
  snprintf(line, sizeof(line), "insns: %llu\n", (unsigned long long)insns);
  qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                                               char** argv) {
  (void)info;
  (void)argc;
  (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_translated);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
