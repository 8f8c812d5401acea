/* core_fixture: what the dump-core / restore-core unit tests (test_core, test_core_regs) share.
 *
 * Contract: core_fx_setup() probes the kernel (kerndat KD_PROBE_PROC) once per test and makes a
 * fresh image directory under /tmp; core_fx_teardown() kills and reaps every child the test
 * registered, closes the log and removes the directory. The helpers fail the running cmocka test
 * on any error of the machinery they drive (seize, rsys, skeleton), so a test body only asserts
 * the state it is about. Everything here needs root (ptrace of children, clone3 set_tid).
 */
#ifndef CRIU_LITE_TEST_CORE_FIXTURE_H
#define CRIU_LITE_TEST_CORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"

#include "criu-lite/cli.h"
#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/seize.h"

#define CFX_MAX_CHILDREN 8

struct core_fx {
	struct kerndat kd;
	struct opts o;
	char *dir_path;
	struct img_dir *dir;
	char log[64]; /* a log file for tests that check messages */
	pid_t kids[CFX_MAX_CHILDREN];
	int nr_kids;
};

int core_fx_setup(void **state);
int core_fx_teardown(void **state);

/* Skip the running test (with the reason printed) unless we are root. */
void cfx_need_root(void);
/* Remember pid: teardown kills and reaps it if the test did not. */
void cfx_track(struct core_fx *f, pid_t pid);

/* dump_core() of a task already seized in *st, with its own rsys session on the leader; the
 * written core image is read back into *core (free with core_entry__free_unpacked). Returns what
 * dump_core() returned; the task stays seized. */
int cfx_dump(struct core_fx *f, struct seized_task *st, CoreEntry **core);

/* A skeleton with pid `pid` (which must be free), seized with SEIZE_EXITKILL and with rsys open
 * at its trampoline: *t is ready for restore_core_prepare() / restore_core(). */
void cfx_skeleton(struct core_fx *f, pid_t pid, CoreEntry *core, struct restore_task *t);

/* SIGKILL a seized (or plain) child and reap it. */
void cfx_kill(struct seized_task *st, pid_t pid);

long cfx_now_ms(void);
/* Until the child sleeps in syscall nr (first field of /proc/PID/syscall, state S). */
bool cfx_wait_syscall(pid_t pid, long nr, int timeout_ms);
bool cfx_log_has(const char *path, const char *s);
/* The value of a /proc/PID/status line ("Uid"), blanks squeezed to single spaces; as hex. */
void cfx_status_field(pid_t pid, const char *key, char *out, size_t len);
uint64_t cfx_status_hex(pid_t pid, const char *key);

#endif
