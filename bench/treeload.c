/* treeload: the tree workload of drbench. The root forks N-1 children
 * (argv[1], default 100 tasks in all), spread over two levels; every task
 * fills MB MiB (argv[2], default 8) with its own pattern and waits. On
 * SIGUSR1 the root asks every task to check its memory and prints one line,
 * "tree ok N" when all N answered that their memory is intact. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t *fill(size_t words, uint64_t seed)
{
	uint64_t *m =
	    mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		exit(1);
	for (size_t i = 0; i < words; i++)
		m[i] = (i + seed) * 0x9e3779b97f4a7c15ULL;
	return m;
}

static int intact(const uint64_t *m, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		if (m[i] != (i + seed) * 0x9e3779b97f4a7c15ULL)
			return 0;
	return 1;
}

/* Wait for SIGUSR1, check, answer on the pipe. */
static void serve(const uint64_t *m, size_t words, uint64_t seed, int out, const sigset_t *set)
{
	for (;;) {
		int sig;
		char c;

		sigwait(set, &sig);
		c = intact(m, words, seed) ? 'y' : 'n';
		if (write(out, &c, 1) != 1)
			exit(1);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, mb = argc > 2 ? atoi(argv[2]) : 8;
	size_t words = (size_t)mb << 17;
	pid_t *kids = calloc(n, sizeof(*kids));
	int p[2], made = 0;
	sigset_t set;

	syscall(SYS_close_range, 3, ~0U, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (!kids || pipe(p))
		return 1;
	/* level 1: up to 10 children; each of them forks the rest of its share */
	for (int i = 1; i < n && made < n - 1; i++) {
		int share = (n - 1) / 10 + 1, base = made + 1;
		pid_t pid = fork();

		if (pid == 0) {
			uint64_t *m = fill(words, (uint64_t)base);

			for (int k = 1; k < share && base + k < n; k++)
				if (fork() == 0)
					serve(fill(words, (uint64_t)(base + k)), words,
					      (uint64_t)(base + k), p[1], &set);
			serve(m, words, (uint64_t)base, p[1], &set);
		}
		kids[i] = pid;
		made += share;
		if (made > n - 1)
			made = n - 1;
	}
	uint64_t *m = fill(words, 0);

	printf("ready %d\n", n);
	fflush(stdout);
	for (;;) {
		int sig, good = intact(m, words, 0), got = 1;

		sigwait(&set, &sig);
		kill(0, SIGUSR1); /* every task of the group; ours stays blocked and pending */
		sigwait(&set, &sig);
		for (; got < n; got++) {
			char c;

			if (read(p[0], &c, 1) != 1)
				break;
			good += c == 'y';
		}
		printf("tree %s %d\n", good == n ? "ok" : "BAD", good);
		fflush(stdout);
	}
}
