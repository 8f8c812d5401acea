/* rfault00: a restore that fails leaves nothing behind, and neither does one
 * refused for a damaged image. The task holds one of each kind of image file:
 * private memory (pages), shared anonymous memory (shmem pages), a pipe with
 * data in flight (pipe data), an open deleted file (a ghost), plus a signal
 * handler and a blocked signal. The runner (tests.desc rfaults=, corrupt=1)
 * first makes restores fail at every step and from copies of the images with
 * each file damaged, checking that no task is left and the images are
 * untouched; then it restores for real. The test then checks every piece of
 * that state: the real restore must not have been disturbed by the failed
 * ones (the pipe's data, say, must be there exactly once). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PRIV_LEN  (1u << 20)
#define SHM_LEN	  (64u << 10)
#define PIPE_LEN  20000
#define GHOST_LEN (3 * 4096 + 100)
#define SEED_PRIV 0x4fa10000u
#define SEED_SHM  0x4fa20000u
#define SEED_PIPE 0x4fa30000u
#define SEED_GHST 0x4fa40000u

struct state {
	unsigned char *priv, *shm;
	int pipe[2];
	int ghost;
	char dir[32];
};

static void on_usr1(int sig)
{
	(void)sig;
}

static int setup_pipe(struct state *s)
{
	unsigned char *buf = malloc(PIPE_LEN);
	int ret = -1;

	if (buf && !pipe(s->pipe)) {
		test_fill_pattern(buf, PIPE_LEN, SEED_PIPE);
		ret = write(s->pipe[1], buf, PIPE_LEN) == PIPE_LEN ? 0 : -1;
	}
	free(buf);
	return ret;
}

static int setup_ghost(struct state *s)
{
	unsigned char *buf = malloc(GHOST_LEN);
	char path[64];
	int ret = -1;

	snprintf(s->dir, sizeof(s->dir), "rfault00.XXXXXX");
	if (!buf || !mkdtemp(s->dir))
		goto out;
	snprintf(path, sizeof(path), "%s/ghost", s->dir);
	s->ghost = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	test_fill_pattern(buf, GHOST_LEN, SEED_GHST);
	if (s->ghost >= 0 && write(s->ghost, buf, GHOST_LEN) == GHOST_LEN && !unlink(path))
		ret = 0;
out:
	free(buf);
	return ret;
}

static int check_pipe(const struct state *s)
{
	unsigned char *buf = malloc(PIPE_LEN + 1);
	size_t got = 0;
	ssize_t n, bad;

	if (!buf || close(s->pipe[1])) {
		fail_errno("close the pipe's write end %d", s->pipe[1]);
		free(buf);
		return -1;
	}
	while (got <= PIPE_LEN && (n = read(s->pipe[0], buf + got, PIPE_LEN + 1 - got)) > 0)
		got += (size_t)n;
	bad = got == PIPE_LEN ? test_check_pattern(buf, PIPE_LEN, SEED_PIPE) : 0;
	free(buf);
	if (got != PIPE_LEN || bad >= 0) {
		fail("pipe fd %d: read %zu bytes to EOF, expected %d; first bad byte at %zd",
		     s->pipe[0], got, PIPE_LEN, bad);
		return -1;
	}
	return 0;
}

static int check_ghost(const struct state *s)
{
	unsigned char buf[GHOST_LEN];
	struct stat st;
	ssize_t n, bad;

	if (fstat(s->ghost, &st)) {
		fail_errno("fstat of the deleted file's fd %d", s->ghost);
		return -1;
	}
	n = pread(s->ghost, buf, GHOST_LEN, 0);
	bad = n == GHOST_LEN ? test_check_pattern(buf, GHOST_LEN, SEED_GHST) : 0;
	if (st.st_nlink != 0 || st.st_size != GHOST_LEN || bad >= 0) {
		fail("deleted file fd %d: nlink %ju size %jd, read %zd, first bad byte %zd; "
		     "expected nlink 0, %d bytes of its pattern",
		     s->ghost, (uintmax_t)st.st_nlink, (intmax_t)st.st_size, n, bad, GHOST_LEN);
		return -1;
	}
	return 0;
}

static int check_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	if (sigaction(SIGUSR1, NULL, &sa) || sigprocmask(SIG_BLOCK, NULL, &set)) {
		fail_errno("sigaction/sigprocmask");
		return -1;
	}
	if (sa.sa_handler != on_usr1 || !(sa.sa_flags & SA_RESTART)) {
		fail("SIGUSR1 handler %p flags %#x, expected %p with SA_RESTART",
		     (void *)sa.sa_handler, (unsigned)sa.sa_flags, (void *)on_usr1);
		return -1;
	}
	if (!sigismember(&set, SIGUSR2)) {
		fail("SIGUSR2 is not blocked any more");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct state s = { 0 };
	sigset_t set;
	ssize_t bad;

	if (test_init(argc, argv))
		return 1;
	s.priv = mmap(NULL, PRIV_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s.shm = mmap(NULL, SHM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (s.priv == MAP_FAILED || s.shm == MAP_FAILED || sigaction(SIGUSR1, &sa, NULL) ||
	    sigprocmask(SIG_BLOCK, &set, NULL) || setup_pipe(&s) || setup_ghost(&s)) {
		fail_errno("setup: memory, signals, pipe or deleted file");
		return 1;
	}
	test_fill_pattern(s.priv, PRIV_LEN, SEED_PRIV);
	test_fill_pattern(s.shm, SHM_LEN, SEED_SHM);
	if (test_daemon())
		return 1;
	test_waitsig();

	bad = test_check_pattern(s.priv, PRIV_LEN, SEED_PRIV);
	if (bad >= 0) {
		fail("private memory at %p differs at byte %zd", (void *)s.priv, bad);
		return 1;
	}
	bad = test_check_pattern(s.shm, SHM_LEN, SEED_SHM);
	if (bad >= 0) {
		fail("shared anonymous memory at %p differs at byte %zd", (void *)s.shm, bad);
		return 1;
	}
	if (check_pipe(&s) || check_ghost(&s) || check_signals())
		return 1;
	rmdir(s.dir);
	pass();
	return 0;
}
