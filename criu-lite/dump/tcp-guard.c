/* tcp-guard: what puts a dumped tree's connections back if the dumper dies while it holds them.
 *
 * A connection in repair mode sends nothing, and the network lock drops its packets: left so by
 * a dumper that is killed (SIGKILL, OOM) while the tree runs on, the tree's connections would be
 * dead. So before the first connection enters repair mode, the dump forks this guard: a process
 * of its own (its own session, deaf to the signals a terminal sends the dumper's group) that
 * gets a copy of each connection's socket over a socketpair (SCM_RIGHTS) and waits for one word
 * from the dumper: 'K' (the tree was killed: the copies are closed still in repair mode, which
 * sends nothing, and the lock stays for the restore), 'R' (the dumper let the connections go on
 * itself). End of file without a word (the dumper died) makes it do what a failed dump does:
 * every socket out of repair mode (without a window probe), the lock's table removed.
 *
 * Contract: tcp_guard_start() forks the guard (0 or -errno, logged); tcp_guard_add() hands it a
 * copy of fd (0 or -errno, logged); tcp_guard_end() says the word and waits for the guard to
 * exit (a guard that never started: nothing). tcp_repair_off() is how a connection leaves
 * repair mode, here and in the dump: without a window probe where the kernel can, and with
 * SO_REUSEADDR set again (leaving repair mode clears it). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/tcp-guard.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "lazy-pages/fdpass.h"

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif

static void undo(const int *fds, const bool *reuse, size_t n, const char *lock)
{
	for (size_t i = 0; i < n; i++)
		tcp_repair_off(fds[i], reuse[i]);
	if (lock[0])
		netlock_unlock(lock);
}

int tcp_repair_off(int fd, bool reuse)
{
	int off = TCP_REPAIR_OFF_NO_WP, on = 1;

	if (setsockopt(fd, SOL_TCP, TCP_REPAIR, &off, sizeof(off))) {
		off = 0; /* TCP_REPAIR_OFF: a kernel before 4.17 takes no other */
		if (errno != EINVAL || setsockopt(fd, SOL_TCP, TCP_REPAIR, &off, sizeof(off)))
			return -errno;
	}
	/* leaving repair mode clears SO_REUSEADDR */
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
		return -errno;
	return 0;
}

static void __attribute__((noreturn)) guard_main(int sk, const char *lock)
{
	static int fds[TCP_GUARD_MAX];
	static bool reuse[TCP_GUARD_MAX];
	size_t n = 0;
	char word = 0;
	int fd = -1, ret;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "criu-lite-tcpg");
	for (;;) {
		fd = -1;
		ret = fdpass_read(sk, &word, 1, &fd, true);
		if (ret)
			break; /* the dumper died (or its end broke): undo */
		if (fd >= 0 && n < TCP_GUARD_MAX) {
			reuse[n] = word == 'G';
			fds[n++] = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (word == 'K' || word == 'R')
			break;
	}
	if (ret) {
		pr_warn("the dumper went away holding %zu TCP connection(s): they leave repair "
			"mode and the network lock is lifted\n",
			n);
		undo(fds, reuse, n, lock);
	}
	for (size_t i = 0; i < n; i++) /* 'K': in repair mode still, closing sends nothing */
		close(fds[i]);
	_exit(0);
}

int tcp_guard_start(struct tcp_guard *g, const char *lock)
{
	int sk[2];

	g->sk = -1;
	g->pid = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk)) {
		pr_perror("a socketpair for the TCP guard");
		return -errno;
	}
	g->pid = fork();
	if (g->pid < 0) {
		int ret = -errno;

		pr_perror("can't fork the TCP guard");
		close(sk[0]);
		close(sk[1]);
		g->pid = 0;
		return ret;
	}
	if (!g->pid) {
		close(sk[0]);
		guard_main(sk[1], lock ? lock : "");
	}
	close(sk[1]);
	g->sk = sk[0];
	return 0;
}

int tcp_guard_add(struct tcp_guard *g, int fd, bool reuse)
{
	char word = reuse ? 'G' : 'F';
	int ret = fdpass_write(g->sk, &word, 1, fd);

	if (ret) {
		errno = -ret;
		pr_perror("can't hand a connection to the TCP guard (pid %d)", g->pid);
	}
	return ret;
}

void tcp_guard_end(struct tcp_guard *g, bool killed)
{
	if (!g->pid)
		return;
	char word = killed ? 'K' : 'R';

	fdpass_write(g->sk, &word, 1, -1);
	close(g->sk);
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	g->pid = 0;
	g->sk = -1;
}
