/* sandbox_fixture: see sandbox_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/ps-sandbox.h"
#include "sandbox_fixture.h"

struct utest_logdir ld;
int lsk = -1;
int sandbox_dirfd = -1;
int mark_fd = -1;
char refused_path[4096];

int sbx_setup(void **state)
{
	(void)state;
	if (utest_logdir_open(&ld, "ps-sandbox"))
		return -1;
	lsk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return lsk < 0 ? -1 : 0;
}

int sbx_teardown(void **state)
{
	(void)state;
	close(lsk);
	utest_logdir_close(&ld);
	return 0;
}

int in_sandbox(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct img_err err = { 0 };

		if (ps_sandbox_enter(lsk, sandbox_dirfd, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

void expect_exit(int status, int code, const char *what)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == code)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s), expected exit %d", what, WTERMSIG(status),
			 strsignal(WTERMSIG(status)), code);
	fail_msg("%s: exit %d, expected %d", what, WEXITSTATUS(status), code);
}

void expect_signal(int status, int sig, const char *what)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == sig)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s), expected %s", what, WTERMSIG(status),
			 strsignal(WTERMSIG(status)), strsignal(sig));
	fail_msg("%s: exit %d (%s), expected %s", what, WEXITSTATUS(status),
		 WEXITSTATUS(status) == GOT_BACK ? "the call returned" : "?", strsignal(sig));
}

/* a byte on mark_fd: the child got as far as the call it is killed by (nothing before killed
 * it) */
void mark(void)
{
	(void)!write(mark_fd, "m", 1);
}
