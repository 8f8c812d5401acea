/* util_tracee: children for the ptrace tests. See util_tracee.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util_tracee.h"

/* ---- in the child ---------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
	(void)!write(TRACEE_USR1_FD, "u", 1);
}

static void on_trap(int sig)
{
	(void)sig;
}

/* The counter to bump travels in the signal itself (sigqueue's value). */
static void on_winch(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	(*(volatile long *)si->si_value.sival_ptr)++;
}

/* A signal to itself is handled before sigqueue() returns to user code,
 * whatever a tracer does in between: if not, it was lost or held back. */
static __attribute__((noreturn)) void signaller(struct tracee_shared *sh)
{
	struct sigaction sa = { .sa_sigaction = on_winch, .sa_flags = SA_SIGINFO | SA_RESTART };
	union sigval v = { .sival_ptr = (void *)&sh->handled };

	sigaction(SIGWINCH, &sa, NULL);
	for (;;) {
		long before = sh->handled;

		sigqueue(getpid(), SIGWINCH, v);
		sh->sent++;
		if (sh->handled != before + 1)
			sh->lost++;
	}
}

static void serve(void)
{
	int v;

	while (read(TRACEE_REQ_FD, &v, sizeof(v)) == sizeof(v)) {
		v++;
		if (write(TRACEE_RESP_FD, &v, sizeof(v)) != sizeof(v))
			break;
	}
}

static void *worker(void *arg)
{
	struct tracee_shared *sh = arg;
	int i = __atomic_fetch_add(&sh->nr_workers, 1, __ATOMIC_SEQ_CST);

	sh->worker_tid[i] = (int)syscall(SYS_gettid);
	serve();
	return NULL;
}

static __attribute__((noreturn)) void child_main(struct tracee_shared *sh, struct tracee *t,
						 enum tracee_kind kind)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct timespec t0, t1, ts = { 0, TRACEE_SLEEP_NS };
	sigset_t blk;
	pthread_t th;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (kind == TRACEE_ZOMBIE)
		_exit(0);
	/* only the child's own ends stay open, so that EOF reaches it */
	if (dup2(t->usr1[1], TRACEE_USR1_FD) < 0 || dup2(t->req[0], TRACEE_REQ_FD) < 0 ||
	    dup2(t->resp[1], TRACEE_RESP_FD) < 0 || dup2(t->side[1], TRACEE_SIDE_FD) < 0)
		_exit(2);
	close_range(3, TRACEE_USR1_FD - 1, 0);
	close_range(TRACEE_SIDE_FD + 1, ~0U, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_trap; /* must survive ptrace sessions (see rsys.c on single-step) */
	sigaction(SIGTRAP, &sa, NULL);
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR2); /* a mask that is not all zeroes, to see it come back */
	sigprocmask(SIG_BLOCK, &blk, NULL);
	switch (kind) {
	case TRACEE_READER:
		serve();
		break;
	case TRACEE_SLEEPER:
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sh->sleep_ret = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		sh->slept_ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
		break;
	case TRACEE_SPINNER:
		for (;;)
			sh->counter++;
	case TRACEE_SIGNALLER:
		signaller(sh);
	case TRACEE_THREADS:
		for (int i = 0; i < TRACEE_NR_WORKERS; i++)
			if (pthread_create(&th, NULL, worker, sh))
				_exit(3);
		for (;;)
			pause();
	case TRACEE_ZOMBIE:
		break;
	}
	_exit(0);
}

/* ---- in the test ----------------------------------------------------------- */

int tracee_start(struct tracee *t, struct tracee_shared *sh, enum tracee_kind kind)
{
	memset(t, 0, sizeof(*t));
	if (pipe2(t->req, O_CLOEXEC) || pipe2(t->resp, O_CLOEXEC) || pipe2(t->side, O_CLOEXEC) ||
	    pipe2(t->usr1, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0)
		child_main(sh, t, kind);
	close(t->req[0]);
	close(t->resp[1]);
	close(t->usr1[1]);
	t->req[0] = t->resp[1] = t->usr1[1] = -1;
	return 0;
}

void tracee_close(struct tracee *t)
{
	int *fds[] = { &t->req[1], &t->resp[0], &t->side[0], &t->side[1], &t->usr1[0] };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] > 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

long tracee_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

char tracee_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

bool tracee_wait_state(pid_t pid, char want, int timeout_ms)
{
	for (long end = tracee_now_ms() + timeout_ms; tracee_now_ms() < end; usleep(2000))
		if (tracee_state(pid) == want)
			return true;
	return tracee_state(pid) == want;
}

bool tracee_wait_syscall(pid_t tid, long nr, int timeout_ms)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	for (long end = tracee_now_ms() + timeout_ms; tracee_now_ms() < end; usleep(2000))
		if (!read_small(path, buf, sizeof(buf)) && buf[0] != 'r' &&
		    strtol(buf, NULL, 10) == nr && tracee_state(tid) == 'S')
			return true;
	return false;
}

int tracee_usr1_count(struct tracee *t, int want, int timeout_ms)
{
	struct pollfd p = { .fd = t->usr1[0], .events = POLLIN };
	long end = tracee_now_ms() + timeout_ms, left;
	char b[64];
	ssize_t n;

	while (t->usr1_seen < want && (left = end - tracee_now_ms()) > 0 &&
	       poll(&p, 1, (int)left) == 1 && (n = read(t->usr1[0], b, sizeof(b))) > 0)
		t->usr1_seen += (int)n;
	while (poll(&p, 1, 0) == 1 && (n = read(t->usr1[0], b, sizeof(b))) > 0)
		t->usr1_seen += (int)n;
	return t->usr1_seen;
}

uint64_t tracee_status_hex(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	uint64_t v = ~0ULL;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp = fopen(path, "re");
	if (!fp)
		return v;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, field, fl) && line[fl] == ':')
			v = strtoull(line + fl + 1, NULL, 16);
	fclose(fp);
	return v;
}

bool tracee_find_map(pid_t pid, uint64_t addr, const char *name, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	unsigned long s = 0, e = 0;
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return false;
	while (!found && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		found = name ? strstr(line, name) != NULL : (addr >= s && addr < e);
	}
	fclose(fp);
	if (found && start && end) {
		*start = s;
		*end = e;
	}
	return found;
}

int tracee_ask(struct tracee *t, int v, int timeout_ms)
{
	struct pollfd p = { .fd = t->resp[0], .events = POLLIN };
	int got = 0;

	if (write(t->req[1], &v, sizeof(v)) != sizeof(v))
		return -1;
	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	if (read(t->resp[0], &got, sizeof(got)) != sizeof(got))
		return -1;
	return got == v + 1 ? 1 : -1;
}
