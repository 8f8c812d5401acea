/* unix_tree00: unix sockets shared and connected across the tasks of a tree survive
 * checkpoint/restore. Tasks: root 0, its child 1, and 1's child 2.
 *  - stream pair "sp": root keeps sp0 (and wrote 3000 bytes to it), task 1 keeps sp1 (and
 *    wrote 2000 bytes to it);
 *  - stream pair "sh": sh0 is one open file inherited by tasks 1 and 2 (task 1 made it
 *    O_NONBLOCK), sh1 stays in the root; task 1 then task 2 sent a token through sh0;
 *  - a listener in the root (a path in the test's socket directory) has a connection waiting from
 *    a client of task 1;
 *  - datagram pair "gd": task 1 keeps gd0 and sent 2 messages, task 2 keeps gd1 and sent 1.
 * After the restore: each end holds exactly what was sent to it; sh0 is O_NONBLOCK in the
 * root, task 1 and task 2 alike (one file again); the root accepts the waiting connection
 * and its "hello" reaches task 1's client; then task 1's "after" reaches the root through
 * sp. What was sent before the checkpoint must be readable at once after it (a unix socket
 * queues a message in send()); what another task sends after SIGTERM is waited for as long as
 * that task takes to run (one that never comes is caught by the runner's time limit). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS 3
#define TO_SP1 3000u
#define TO_SP0 2000u
#define SEED   0x7ee50000u
#define TOKEN1 "token-of-task-1"
#define TOKEN2 "token-of-task-2"

static const int parent[NTASKS] = { -1, 0, 1 };
static int sp[2], sh[2], gd[2], lst = -1, cl = -1;
static struct sockaddr_un la;
static socklen_t llen;

static int send_pattern(int fd, size_t len, uint32_t seed)
{
	unsigned char buf[4096];

	test_fill_pattern(buf, len, seed);
	return send(fd, buf, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

static int root_setup(char *why, size_t len)
{
	memset(&la, 0, sizeof(la));
	la.sun_family = AF_UNIX;
	if (test_sock_path(la.sun_path, sizeof(la.sun_path), "tree.sock")) {
		snprintf(why, len, "socket path: %s", strerror(errno));
		return -1;
	}
	llen = (socklen_t)sizeof(la);
	/* every socket is made here: a task of the lib must not open fds (it closes its
	 * parent's number of the verdict pipe, which a new fd of the parent may reuse) */
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_STREAM, 0, sh) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, gd) || lst < 0 || cl < 0 ||
	    bind(lst, (struct sockaddr *)&la, llen) || listen(lst, 4) ||
	    send_pattern(sp[0], TO_SP1, SEED)) {
		snprintf(why, len, "root sockets: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	if (idx == 0)
		return root_setup(why, len);
	if (idx == 1) {
		if (close(sp[0]) || close(sh[1]) || close(lst) ||
		    fcntl(sh[0], F_SETFL, O_NONBLOCK) || send_pattern(sp[1], TO_SP0, SEED + 1) ||
		    send(sh[0], TOKEN1, sizeof(TOKEN1), 0) != sizeof(TOKEN1) ||
		    connect(cl, (struct sockaddr *)&la, llen) || send(gd[0], "c2g-1", 5, 0) != 5 ||
		    send(gd[0], "c2g-22", 6, 0) != 6) {
			snprintf(why, len, "task 1 sockets: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (close(sp[1]) || close(cl) || close(gd[0]) ||
	    send(sh[0], TOKEN2, sizeof(TOKEN2), 0) != sizeof(TOKEN2) ||
	    send(gd[1], "g2c", 3, 0) != 3) {
		snprintf(why, len, "task 2 sockets: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int forked(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	if ((idx == 1 && (close(sp[1]) || close(cl) || close(gd[0]) || close(gd[1]))) ||
	    (idx == 2 && close(gd[1]))) {
		snprintf(why, len, "close after fork of task %d: %s", idx, strerror(errno));
		return -1;
	}
	return 0;
}

/* Exactly len bytes of the pattern of seed are queued on fd. */
static int has_pattern(int fd, size_t len, uint32_t seed, const char *what, char *why, size_t wl)
{
	unsigned char want[4096], got[4096 + 16];
	ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);

	test_fill_pattern(want, len, seed);
	if (n != (ssize_t)len || memcmp(got, want, len)) {
		snprintf(why, wl, "%s: %zd bytes queued (errno %d), expected %zu of its pattern",
			 what, n, n < 0 ? errno : 0, len);
		return -1;
	}
	return 0;
}

enum { QUEUED = 0, SENT_LATER = -1 }; /* the poll timeouts of gets() */

/* The next message on fd is want: already queued (QUEUED: sent before the checkpoint), or
 * waited for without a limit (SENT_LATER: another task sends it after SIGTERM). */
static int gets(int fd, const char *want, size_t wlen, const char *what, int wait, char *why,
		size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char got[64];
	ssize_t n = -1;
	int r;

	while ((r = poll(&p, 1, wait)) < 0 && errno == EINTR)
		;
	if (r == 1)
		n = recv(fd, got, sizeof(got), MSG_DONTWAIT);
	if (n != (ssize_t)wlen || memcmp(got, want, wlen)) {
		snprintf(why, len, "%s: got %zd bytes (errno %d), expected \"%.*s\"", what, n,
			 n < 0 ? errno : 0, (int)wlen, want);
		return -1;
	}
	return 0;
}

static int shared_nonblock(const char *who, char *why, size_t len)
{
	if (!(fcntl(sh[0], F_GETFL) & O_NONBLOCK)) {
		snprintf(why, len, "%s: sh0 is not O_NONBLOCK: not the file task 1 set it on", who);
		return -1;
	}
	return 0;
}

static int check_root(char *why, size_t len)
{
	char tokens[sizeof(TOKEN1) + sizeof(TOKEN2)];
	int a;

	memcpy(tokens, TOKEN1, sizeof(TOKEN1));
	memcpy(tokens + sizeof(TOKEN1), TOKEN2, sizeof(TOKEN2));
	if (has_pattern(sp[0], TO_SP0, SEED + 1, "root sp0", why, len) ||
	    gets(sh[1], tokens, sizeof(tokens), "root sh1 (tokens of tasks 1 and 2)", QUEUED, why,
		 len) ||
	    shared_nonblock("root", why, len))
		return -1;
	if (fcntl(lst, F_SETFL, O_NONBLOCK) || (a = accept(lst, NULL, NULL)) < 0 ||
	    send(a, "hello", 5, 0) != 5) {
		snprintf(why, len, "root: accepting the connection of task 1's client: %s",
			 strerror(errno));
		return -1;
	}
	return gets(sp[0], "after", 5, "root sp0, after the restore", SENT_LATER, why, len);
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	if (idx == 0)
		return check_root(why, len);
	if (idx == 1) {
		if (has_pattern(sp[1], TO_SP1, SEED, "task 1 sp1", why, len) ||
		    shared_nonblock("task 1", why, len) ||
		    gets(gd[0], "g2c", 3, "task 1 gd0", QUEUED, why, len) ||
		    gets(cl, "hello", 5, "task 1's client", SENT_LATER, why, len))
			return -1;
		if (send(sp[1], "after", 5, 0) != 5) {
			snprintf(why, len, "task 1: send on sp1: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	return shared_nonblock("task 2", why, len) ||
	       gets(gd[1], "c2g-1", 5, "task 2 gd1, message 1", QUEUED, why, len) ||
	       gets(gd[1], "c2g-22", 6, "task 2 gd1, message 2", QUEUED, why, len);
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .forked = forked, .check = check
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
