/* read00: a blocking read() interrupted by the checkpoint completes correctly
 * after the restore. The test blocks in read() on an empty pipe right after
 * test_daemon(), so it is inside read() when the runner checkpoints it (the
 * runner dumps as soon as the pidfile appears). The data arrives from the
 * test's own SIGTERM handler (SA_RESTART), which writes it into the pipe
 * once the runner sends SIGTERM after the restore: the one read() call must
 * then return that data, never fail with EINTR (SA_RESTART) nor with a
 * restart code leaking out of the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MSG "read00: written by the SIGTERM handler"

/* The handler's view: static storage only. */
static struct {
	int wfd;
	volatile sig_atomic_t ran;
} h = { -1, 0 };

static void on_term(int sig)
{
	(void)sig;
	h.ran++;
	if (write(h.wfd, MSG, sizeof(MSG)) != (ssize_t)sizeof(MSG))
		h.ran += 100; /* reported by main */
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term, .sa_flags = SA_RESTART };
	char buf[sizeof(MSG) + 16];
	sigset_t term;
	ssize_t n;
	int p[2];

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (pipe2(p, O_CLOEXEC) || sigaction(SIGTERM, &sa, NULL)) {
		fail_errno("setup: pipe/sigaction");
		return 1;
	}
	h.wfd = p[1];
	if (test_daemon())
		return 1;
	/* the test lib keeps SIGTERM blocked: let it interrupt the read */
	if (sigprocmask(SIG_UNBLOCK, &term, NULL)) {
		fail_errno("sigprocmask(SIG_UNBLOCK, SIGTERM)");
		return 1;
	}
	n = read(p[0], buf, sizeof(buf));
	if (n < 0) {
		fail_errno("read() on the pipe (fd %d) with a SA_RESTART handler", p[0]);
		return 1;
	}
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (h.ran != 1) {
		fail("the SIGTERM handler ran %d time(s)%s, expected once", (int)h.ran % 100,
		     h.ran >= 100 ? " and could not write the pipe" : "");
		return 1;
	}
	if (n != (ssize_t)sizeof(MSG) || memcmp(buf, MSG, sizeof(MSG))) {
		fail("read() returned %zd bytes '%.*s', expected %zu bytes '%s'", n, (int)n, buf,
		     sizeof(MSG), MSG);
		return 1;
	}
	pass();
	return 0;
}
