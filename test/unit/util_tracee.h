/* util_tracee: child processes for the ptrace tests (linked into every unit binary).
 *
 * Contract: tracee_start() forks a child of one kind that parks itself in a
 * known state (blocked in read(), in clock_nanosleep, spinning in user space,
 * threads in read(), signalling itself, or a zombie) and dies with its parent.
 * Every child answers an int n on req with n + 1 on resp when it serves, has
 * SIGUSR2 blocked, a SIGTRAP handler, and a SIGUSR1 handler that writes a
 * byte to the usr1 pipe. The other helpers observe a child from outside
 * (/proc, pipes) and return values or false/0 without printing or asserting.
 */
#ifndef CRIU_LITE_TEST_UTIL_TRACEE_H
#define CRIU_LITE_TEST_UTIL_TRACEE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TRACEE_SLEEP_NS	  700000000L /* how long a TRACEE_SLEEPER sleeps */
#define TRACEE_NR_WORKERS 2	     /* extra threads of a TRACEE_THREADS child */
/* In the child, only these fds are open besides 0-2. */
#define TRACEE_USR1_FD 200 /* write end of usr1 */
#define TRACEE_REQ_FD  201 /* read end of req */
#define TRACEE_RESP_FD 202 /* write end of resp */
#define TRACEE_SIDE_FD 203 /* write end of side */

enum tracee_kind {
	TRACEE_READER,	  /* serves requests: blocked in read() */
	TRACEE_SLEEPER,	  /* one clock_nanosleep(CLOCK_MONOTONIC), then exits 0 */
	TRACEE_SPINNER,	  /* counts in user space forever */
	TRACEE_THREADS,	  /* main thread in pause(), workers serve requests */
	TRACEE_SIGNALLER, /* sigqueue()s SIGWINCH to itself forever, checks each was handled */
	TRACEE_ZOMBIE,	  /* exits at once */
};

/* Shared between the test and its children (MAP_SHARED). */
struct tracee_shared {
	volatile long counter;	 /* the spinner's progress */
	volatile long slept_ns;	 /* the sleeper's measured sleep */
	volatile long sleep_ret; /* and what clock_nanosleep returned */
	int nr_workers;
	volatile int worker_tid[TRACEE_NR_WORKERS];
	volatile long handled; /* the signaller's SIGWINCHs handled */
	volatile long sent;    /* ... sent to itself */
	volatile long lost;    /* ... not handled by the time sigqueue() returned */
};

struct tracee {
	pid_t pid;
	int req[2];  /* test -> child: an int to answer */
	int resp[2]; /* child -> test: the int + 1 */
	int side[2]; /* a spare pipe, the child's end is TRACEE_SIDE_FD (for remote write()s) */
	int usr1[2]; /* a byte per SIGUSR1 the child handled */
	int usr1_seen;
};

/* Fork the child: 0, or -errno. */
int tracee_start(struct tracee *t, struct tracee_shared *sh, enum tracee_kind kind);
/* Close the test's ends of the child's pipes. */
void tracee_close(struct tracee *t);

long tracee_now_ms(void);
/* The state letter of /proc/PID/stat, 0 if gone. */
char tracee_state(pid_t pid);
bool tracee_wait_state(pid_t pid, char want, int timeout_ms);
/* Wait until the thread sleeps in syscall NR (per /proc/TID/syscall and its state). */
bool tracee_wait_syscall(pid_t tid, long nr, int timeout_ms);
/* SIGUSR1s the child has handled so far, waiting up to timeout_ms for WANT. */
int tracee_usr1_count(struct tracee *t, int want, int timeout_ms);
/* A hex field of /proc/PID/status ("SigBlk"), ~0 if not found. */
uint64_t tracee_status_hex(pid_t pid, const char *field);
/* Whether a mapping holds ADDR (or, with name, is named so); its bounds. */
bool tracee_find_map(pid_t pid, uint64_t addr, const char *name, uint64_t *start, uint64_t *end);
/* Send v; 1: v + 1 came back within timeout_ms, 0: silence, -1: a wrong answer or error. */
int tracee_ask(struct tracee *t, int v, int timeout_ms);

#endif
