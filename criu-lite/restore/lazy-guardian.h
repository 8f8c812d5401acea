/* lazy-guardian: the process a lazy restore leaves behind to make sure no restored task ever
 * runs on a zero page where its memory should be.
 *
 * Contract: lazy_guardian() runs in a child of the restorer and never returns. It keeps a copy
 * of every userfaultfd (from the restorer: LAZY_TASK; from the server: LAZY_FORKED): while it
 * holds one, an unserved fault blocks instead of being zero-filled. It watches the server's
 * connection (srv): LAZY_STATUS is progress, LAZY_DONE means every page is in (it closes the
 * uffds and exits 0). The server's LAZY_ERROR, the connection closing, or no message for
 * timeout_s seconds while pages are missing is fatal: before the restore finished it kills the
 * restorer and everything below it (but itself), and every task the restorer handed over
 * (LAZY_TASK: they may run already, resumed but not yet in LAZY_END, and after the restorer's
 * death no longer below it); after (LAZY_END from the restorer on rp, with the pids) it kills
 * every task of the tree and their descendants; it says why, then exits 1. A restore that
 * failed says so (LAZY_ERROR on rp) and kills its tasks itself: the guardian exits 0; rp
 * closing before LAZY_END or LAZY_ERROR (the restorer died) is fatal as above. Terminal
 * signals (^C, hang-up, job control) and SIGPIPE are ignored; SIGTERM and SIGKILL end it. */
#ifndef CRIU_LITE_LAZY_GUARDIAN_H
#define CRIU_LITE_LAZY_GUARDIAN_H

#include <sys/types.h>

__attribute__((noreturn)) void lazy_guardian(int srv, int rp, pid_t restorer, int timeout_s);

#endif
