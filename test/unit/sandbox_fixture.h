/* sandbox_fixture: what the unit tests of the page server's sandbox (test_ps_sandbox,
 * test_ps_sandbox_push) share: a fresh log directory, a socket standing for the listening one,
 * and a child that enters the sandbox and makes the calls under test, judged by how it ends.
 *
 * Contract: sbx_setup() opens ld (util_log.h: the log goes to ld.log) and lsk; sbx_teardown()
 * closes them and removes the directory. in_sandbox(fn, arg) runs fn in a child that first
 * enters the sandbox with lsk and sandbox_dirfd (-1: a server that does not receive): the
 * child's wait status (exit 100: it could not enter). A child that is to be killed by a call
 * writes a byte to mark_fd (mark()) just before it, and returns GOT_BACK if the call returned.
 * expect_exit() and expect_signal() fail the cmocka test with what the child did instead. */
#ifndef CRIU_LITE_TEST_SANDBOX_FIXTURE_H
#define CRIU_LITE_TEST_SANDBOX_FIXTURE_H

#include "util_log.h"

#define GOT_BACK 3 /* a child whose call returned (it should have been killed) */

extern struct utest_logdir ld;
extern int lsk;		  /* a TCP socket of the test's, standing for the listening one */
extern int sandbox_dirfd; /* the directory of a server that may receive a dump, -1: none */
extern int mark_fd;
extern char refused_path[4096]; /* a file of ld that the refused calls name */

int sbx_setup(void **state);
int sbx_teardown(void **state);
int in_sandbox(int (*fn)(void *arg), void *arg);
void mark(void);
void expect_exit(int status, int code, const char *what);
void expect_signal(int status, int sig, const char *what);

#endif
