/* thread: helper threads that take no process-directed signal.
 *
 * Contract: thread_start_quiet() is pthread_create() with every signal blocked in the new
 * thread (it inherits the mask set around the call; the caller's own is put back). A signal
 * sent to the process is then the main thread's: its handlers interrupt the main thread's
 * waits, and a signal it blocks to read through a signalfd is not taken, with its default
 * action, by a helper that does not block it (lazy-pages' SIGUSR1 killed it so, under ASan's
 * slower start). 0 or a positive error number, as pthread_create(). */
#ifndef CRIU_LITE_IMAGES_THREAD_H
#define CRIU_LITE_IMAGES_THREAD_H

#include <pthread.h>
#include <signal.h>

static inline int thread_start_quiet(pthread_t *t, const pthread_attr_t *at, void *(*fn)(void *),
				     void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(t, at, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

#endif
