/* unix_connected00: accepted connections of named stream listeners survive
 * checkpoint/restore with their names, peers and queued data. A server listens on a path
 * in a short directory of the test's own (test_sock_path); a client bound to an abstract name
 * connected and sent 3000 bytes, of which the accepted end read 1000, and got 500 bytes it has not
 * read. Two more listeners accepted one client each and were closed: "gone.sock" left its socket
 * file behind, "gone2.sock" was also unlinked; the accepted end of the first sent 20 bytes. After
 * the restore: getsockname and getpeername of every end are as before (an accepted end carries its
 * listener's path, the client sees it as its peer), gone.sock is still a socket file and gone2.sock
 * still absent, each end holds exactly its remaining bytes, every pair talks both ways, and the
 * server accepts a new client. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define C_TO_S	3000u
#define S_READ	1000u
#define S_TO_C	500u
#define GS_TO_G 20u
#define SEED	0xc0770000u

struct named {
	struct sockaddr_un a;
	socklen_t len;
};

static struct named srv, cla, gone, gone2;
static int lst, c, s, g, gs, h, hs;

static void set_addr(struct named *n, const char *name, bool abstract)
{
	memset(&n->a, 0, sizeof(n->a));
	n->a.sun_family = AF_UNIX;
	snprintf(n->a.sun_path + abstract, sizeof(n->a.sun_path) - 1, "%s", name);
	n->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) +
			     !abstract);
}

static int send_pattern(int fd, size_t len, uint32_t seed)
{
	unsigned char buf[4096];

	test_fill_pattern(buf, len, seed);
	return send(fd, buf, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

/* A listener at n accepts client cl (bound to clname first when set): the accepted end. */
static int connect_pair(const struct named *n, int *l, int *cl, const struct named *clname)
{
	*l = socket(AF_UNIX, SOCK_STREAM, 0);
	*cl = socket(AF_UNIX, SOCK_STREAM, 0);
	if (*l < 0 || *cl < 0 || bind(*l, (const struct sockaddr *)&n->a, n->len) ||
	    listen(*l, 2) ||
	    (clname && bind(*cl, (const struct sockaddr *)&clname->a, clname->len)) ||
	    connect(*cl, (const struct sockaddr *)&n->a, n->len))
		return -1;
	return accept(*l, NULL, NULL);
}

static int setup(void)
{
	char path[96], buf[S_READ];
	int l2, l3;

	if (test_sock_path(path, sizeof(path), "srv.sock"))
		return -1;
	set_addr(&srv, path, false);
	if (test_sock_path(path, sizeof(path), "gone.sock"))
		return -1;
	set_addr(&gone, path, false);
	if (test_sock_path(path, sizeof(path), "gone2.sock"))
		return -1;
	set_addr(&gone2, path, false);
	snprintf(path, sizeof(path), "zdtm-connected00-%d", getpid());
	set_addr(&cla, path, true);
	if ((s = connect_pair(&srv, &lst, &c, &cla)) < 0 ||
	    (gs = connect_pair(&gone, &l2, &g, NULL)) < 0 ||
	    (hs = connect_pair(&gone2, &l3, &h, NULL)) < 0)
		return -1;
	if (close(l2) || close(l3) || unlink(gone2.a.sun_path))
		return -1;
	if (send_pattern(c, C_TO_S, SEED) || recv(s, buf, S_READ, 0) != S_READ ||
	    send_pattern(s, S_TO_C, SEED + 1) || send_pattern(gs, GS_TO_G, SEED + 2))
		return -1;
	return 0;
}

static int same(const char *what, int fd, bool peer, const struct named *want)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
		     : getsockname(fd, (struct sockaddr *)&a, &l);

	if (r || l != want->len || memcmp(&a, &want->a, want->len)) {
		fail("%s: %s has length %u (%s), expected %u (%s%s)", what,
		     peer ? "its peer name" : "its name", (unsigned int)l,
		     r		     ? strerror(errno)
		     : a.sun_path[0] ? a.sun_path
				     : "abstract or none",
		     (unsigned int)want->len, want->a.sun_path[0] ? "" : "@",
		     want->a.sun_path[0] ? want->a.sun_path : want->a.sun_path + 1);
		return -1;
	}
	return 0;
}

static int check_names(void)
{
	struct stat st;

	if (same("server", lst, false, &srv) || same("accepted", s, false, &srv) ||
	    same("accepted", s, true, &cla) || same("client", c, false, &cla) ||
	    same("client", c, true, &srv) || same("gone accepted", gs, false, &gone) ||
	    same("gone client", g, true, &gone) || same("gone2 accepted", hs, false, &gone2) ||
	    same("gone2 client", h, true, &gone2))
		return -1;
	if (stat(gone.a.sun_path, &st) || !S_ISSOCK(st.st_mode)) {
		fail_errno("%s: must still be a socket file", gone.a.sun_path);
		return -1;
	}
	if (stat(gone2.a.sun_path, &st) == 0 || errno != ENOENT) {
		fail("%s: exists (mode %#o), it was unlinked before the dump", gone2.a.sun_path,
		     (unsigned int)st.st_mode);
		return -1;
	}
	return 0;
}

/* Exactly len bytes of the pattern of seed from offset off are queued on fd. */
static int check_data(const char *what, int fd, size_t off, size_t len, uint32_t seed)
{
	unsigned char want[C_TO_S], got[C_TO_S + 16];
	ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);

	test_fill_pattern(want, off + len, seed);
	if (n != (ssize_t)len || memcmp(got, want + off, len)) {
		fail("%s: %zd bytes queued (errno %d), expected %zu of its pattern", what, n,
		     n < 0 ? errno : 0, len);
		return -1;
	}
	return 0;
}

static int talk(const char *what, int x, int y)
{
	char buf[8];

	if (send(x, "abc", 3, MSG_NOSIGNAL) != 3 || recv(y, buf, 8, MSG_DONTWAIT) != 3 ||
	    send(y, "de", 2, MSG_NOSIGNAL) != 2 || recv(x, buf, 8, MSG_DONTWAIT) != 2) {
		fail_errno("%s: new data does not go through both ways", what);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int nc, na;

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_names() || check_data("accepted", s, S_READ, C_TO_S - S_READ, SEED) ||
	    check_data("client", c, 0, S_TO_C, SEED + 1) ||
	    check_data("gone client", g, 0, GS_TO_G, SEED + 2) || talk("server pair", c, s) ||
	    talk("gone pair", g, gs) || talk("gone2 pair", h, hs))
		return 1;
	nc = socket(AF_UNIX, SOCK_STREAM, 0);
	if (nc < 0 || connect(nc, (struct sockaddr *)&srv.a, srv.len) ||
	    (na = accept(lst, NULL, NULL)) < 0 || talk("new client", nc, na)) {
		fail_errno("the server does not accept a new client");
		return 1;
	}
	pass();
	return 0;
}
