/* fault00: a dump that fails leaves the task as it was. The runner (tests.desc
 * faults=SITE,...) first runs one dump per site with CRIU_LITE_FAULT=SITE,
 * each of which must fail and leave the task running, untraced and not
 * stopped, then dumps and restores it for real. The test then checks that
 * nothing the failed dumps may have done to it is left: its memory, its
 * mappings (no leftover scratch page), its fds (no leftover fd), its blocked
 * mask and a handler are unchanged (that it kept running is the runner's
 * check). It waits by polling test_go(), not in sigsuspend(), so that the
 * mask it sees is the kernel's, not one test_waitsig() put back. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN  (4u << 20)
#define SEED 0xfa170000u

struct state {
	char *maps, *fds;
	uint64_t mask;
	struct sigaction usr1;
};

static void on_usr1(int sig)
{
	(void)sig;
}

/* The fd numbers and targets, one per line, from /proc/self/fd; fds that
 * fcntl() does not know (closed since: the ready pipe) are left out. */
static char *fd_list(void)
{
	char path[64], target[512], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (int fd = 0; fd < 1024; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		fprintf(f, "%d %s\n", fd, target);
	}
	fclose(f);
	return out;
}

/* Drop the lines of fds closed since the list was made. */
static void fd_list_prune(char *list)
{
	char *line = list, *next;

	while (*line) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (fcntl(atoi(line), F_GETFD) < 0)
			memmove(line, next, strlen(next) + 1);
		else
			line = next;
	}
}

static int observe(struct state *s)
{
	size_t len;

	s->maps = test_read_maps(&len);
	s->fds = fd_list();
	if (!s->maps || !s->fds ||
	    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &s->mask, sizeof(s->mask)) ||
	    sigaction(SIGUSR1, NULL, &s->usr1))
		return -1;
	return 0;
}

static int compare(const struct state *now, const struct state *was)
{
	if (test_maps_same("/proc/self/maps", was->maps, now->maps))
		return -1;
	if (strcmp(now->fds, was->fds)) {
		fail("the fd table changed: now '%s', was '%s'", now->fds, was->fds);
		return -1;
	}
	if (now->mask != was->mask) {
		fail("blocked mask is %#llx, was %#llx", (unsigned long long)now->mask,
		     (unsigned long long)was->mask);
		return -1;
	}
	if (now->usr1.sa_handler != was->usr1.sa_handler ||
	    now->usr1.sa_flags != was->usr1.sa_flags) {
		fail("SIGUSR1 handler %p flags %#x, was %p %#x", (void *)now->usr1.sa_handler,
		     (unsigned)now->usr1.sa_flags, (void *)was->usr1.sa_handler,
		     (unsigned)was->usr1.sa_flags);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 5 * 1000 * 1000 };
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct state was, now;
	unsigned long rounds = 0;
	unsigned char *mem;
	sigset_t set;
	ssize_t bad;

	if (test_init(argc, argv))
		return 1;
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, 40);
	if (mem == MAP_FAILED || sigaction(SIGUSR1, &sa, NULL) ||
	    sigprocmask(SIG_BLOCK, &set, NULL)) {
		fail_errno("setup: mmap/sigaction/sigprocmask");
		return 1;
	}
	test_fill_pattern(mem, LEN, SEED);
	/* twice: the first read lets malloc settle, the second is the record */
	if (observe(&was) || (free(was.maps), free(was.fds), observe(&was))) {
		fail_errno("setup: observe the task");
		return 1;
	}
	if (test_daemon())
		return 1;
	fd_list_prune(was.fds); /* test_daemon() closed the ready pipe */
	while (test_go()) {
		nanosleep(&tick, NULL);
		rounds++;
	}

	if (observe(&now)) {
		fail_errno("observe the task after SIGTERM");
		return 1;
	}
	if (compare(&now, &was))
		return 1;
	bad = test_check_pattern(mem, LEN, SEED);
	if (bad >= 0) {
		fail("memory at %p differs at byte %zd: 0x%02x", (void *)mem, bad, mem[bad]);
		return 1;
	}
	test_msg("%lu sleep rounds", rounds);
	pass();
	return 0;
}
