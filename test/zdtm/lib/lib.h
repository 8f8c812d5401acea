/* lib.h: what the files of the zdtm lib share with each other, not with tests.
 *
 * The test API is context-free by design (a test is a tiny program and the
 * signal handler can reach only static storage), so the lib keeps a little
 * process-wide state, each piece private to the one file that owns it:
 * msg.c the outfile and the verdict, sig.c the SIGTERM flag, init.c the
 * pidfile and the ready pipe. */
#ifndef ZDTM_LIB_H
#define ZDTM_LIB_H

/* msg.c: from now on, messages and verdicts go to fd (stderr until then). */
void zdtm_out_set(int fd);

/* sig.c: install the SIGTERM handler and block SIGTERM. 0 or -errno (reported). */
int zdtm_sig_setup(void);

#endif
