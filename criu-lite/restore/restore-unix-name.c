/* restore-unix-name: binding unix sockets to their dumped names and connecting
 * to them (see restore-unix.h).
 *
 * A path name is rebound where it was. What is found at the path first: nothing
 * (bound at once); a socket file no live socket is bound to (sock_diag knows
 * none with that inode) and where a connect() of the same type is refused: the
 * file of a dead socket, the usual state after a dump killed the tree, which is
 * removed and bound again; anything else (another kind of file, a socket file in
 * use) is refused, naming the path. After binding, the file gets the mode and
 * owner it had at dump. An abstract name is simply bound (in use: refused). A relative path
 * name is bound, connected to and sent to from the directory it resolved from at dump
 * (name_dir): the restorer's cwd moves there for the call and back (usk_enter_dir()).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-unix.h"

void usk_addr(const UnixSkEntry *u, struct sockaddr_un *a, socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, u->name.data, u->name.len);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + u->name.len +
			   (u->name.data[0] ? 1 : 0));
}

void usk_name_str(const UnixSkEntry *u, char *buf, size_t len)
{
	size_t o;

	if (!u->has_name || !u->name.len) {
		buf[0] = '\0';
		return;
	}
	o = (size_t)snprintf(buf, len, " %s", u->name.data[0] ? "" : "@");
	for (size_t i = u->name.data[0] ? 0 : 1; i < u->name.len && o + 5 < len; i++) {
		unsigned char ch = u->name.data[i];

		if (ch >= 0x20 && ch < 0x7f)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	buf[o < len ? o : len - 1] = '\0';
}

/* sockdiag walk: a live socket bound to the file want. */
struct bound_to {
	ino_t ino;
	dev_t dev;
	uint32_t by;
};

static int is_bound_to(const struct usk_diag *d, void *arg)
{
	struct bound_to *b = arg;

	if (!d->has_vfs || d->vfs_ino != b->ino || d->vfs_dev != b->dev)
		return 0;
	b->by = d->ino;
	return 1;
}

/* 0 if nothing is at path or it was the file of a dead socket (removed now), else -errno. */
static int clear_stale(struct restore_unix *t, const char *path, int type, const char *what)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct bound_to b = { 0 };
	struct stat st;
	int probe, r, e;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		pr_perror("%s: can't look at %s, where it is to be bound", what, path);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s: %s exists and is not a socket file (mode 0%o): can't bind it there\n",
		       what, path, (unsigned int)st.st_mode);
		return -EADDRINUSE;
	}
	if (!t->diag && (r = sockdiag_open(&t->diag)))
		return r;
	b.ino = st.st_ino;
	b.dev = st.st_dev;
	r = sockdiag_unix_walk(t->diag, ~0u, is_bound_to, &b);
	if (r < 0)
		return r;
	if (r > 0) {
		pr_err("%s: %s is in use: socket:[%u] is bound to it\n", what, path, b.by);
		return -EADDRINUSE;
	}
	probe = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		pr_perror("%s: can't create a socket to probe %s", what, path);
		return -errno;
	}
	memcpy(a.sun_path, path, strlen(path));
	r = connect(probe, (struct sockaddr *)&a, sizeof(a));
	e = errno;
	close(probe);
	if (r == 0 || e != ECONNREFUSED) {
		pr_err("%s: %s is in use (a connect() to it gives %s): can't bind it there\n", what,
		       path, r == 0 ? "success" : strerror(e));
		return -EADDRINUSE;
	}
	if (unlink(path) && errno != ENOENT) {
		pr_perror("%s: can't remove the stale socket file %s", what, path);
		return -errno;
	}
	pr_debug("%s: removed the stale socket file %s\n", what, path);
	return 0;
}

/* The socket file's mode and owner as dumped. */
static int set_owner(const UnixSkEntry *u, const char *path, const char *what)
{
	if (!u->has_name_present || !u->name_present)
		return 0;
	if (u->has_name_mode && chmod(path, u->name_mode & 07777)) {
		pr_perror("%s: can't set the mode of %s to 0%o", what, path, u->name_mode & 07777);
		return -errno;
	}
	if (u->has_name_uid && u->has_name_gid && chown(path, u->name_uid, u->name_gid)) {
		pr_perror("%s: can't give %s to uid %u gid %u", what, path, u->name_uid,
			  u->name_gid);
		return -errno;
	}
	return 0;
}

int usk_enter_dir(const UnixSkEntry *u, int *back, const char *what)
{
	*back = -1;
	if (!u->name_dir || !u->has_name || !u->name.len || !u->name.data[0] ||
	    u->name.data[0] == '/')
		return 0;
	*back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*back >= 0 && !chdir(u->name_dir))
		return 0;
	pr_perror("%s: can't go to %s, where its relative name is bound", what, u->name_dir);
	if (*back >= 0)
		close(*back);
	*back = -1;
	return -ENOENT;
}

void usk_leave_dir(int back)
{
	if (back < 0)
		return;
	if (fchdir(back))
		pr_perror("can't go back to the restorer's cwd");
	close(back);
}

int usk_bind(struct restore_unix *t, int fd, int type, const UnixSkEntry *u, const char *what)
{
	char nm[USK_NAME_MAX * 4 + 8];
	struct sockaddr_un a;
	socklen_t len;
	int ret, back;

	usk_addr(u, &a, &len);
	ret = usk_enter_dir(u, &back, what);
	if (!ret && u->name.data[0])
		ret = clear_stale(t, a.sun_path, type, what);
	if (!ret && bind(fd, (struct sockaddr *)&a, len)) {
		ret = -errno;
		usk_name_str(u, nm, sizeof(nm));
		pr_perror("%s: can't bind it to%s", what, nm);
	}
	if (!ret && u->name.data[0])
		ret = set_owner(u, a.sun_path, what);
	usk_leave_dir(back);
	return ret;
}

int usk_connect(int fd, const UnixSkEntry *to, const char *what)
{
	char nm[USK_NAME_MAX * 4 + 8];
	struct sockaddr_un a;
	socklen_t len;
	int ret, back;

	if (!to->has_name) {
		pr_err("%s: to be connected to socket:[%u] (at dump), which has no name\n", what,
		       to->ino);
		return -EBADMSG;
	}
	usk_addr(to, &a, &len);
	ret = usk_enter_dir(to, &back, what);
	if (!ret && connect(fd, (struct sockaddr *)&a, len)) {
		ret = -errno;
		usk_name_str(to, nm, sizeof(nm));
		pr_perror("%s: can't connect it to%s (socket:[%u] at dump)", what, nm, to->ino);
	}
	usk_leave_dir(back);
	return ret;
}

int usk_connect_ext(int fd, const UnixSkEntry *u, const char *what)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + u->ext_peer.len +
				    (u->ext_peer.data[0] ? 1 : 0));

	memcpy(a.sun_path, u->ext_peer.data, u->ext_peer.len);
	if (!connect(fd, (struct sockaddr *)&a, len))
		return 0;
	pr_perror("%s: can't connect it again to %s%.*s, its peer outside the tree", what,
		  u->ext_peer.data[0] ? "" : "@",
		  (int)u->ext_peer.len - (u->ext_peer.data[0] ? 0 : 1),
		  (const char *)u->ext_peer.data + (u->ext_peer.data[0] ? 0 : 1));
	return -errno;
}

void usk_unlink_gone(const UnixSkEntry *u, const char *what)
{
	char path[USK_NAME_MAX + 1];

	if (!u->has_name || !u->name.data[0] || !u->has_name_present || u->name_present)
		return;
	memcpy(path, u->name.data, u->name.len);
	path[u->name.len] = '\0';
	if (unlink(path) && errno != ENOENT)
		pr_warn("%s: can't remove %s again (it was gone at dump): %s\n", what, path,
			strerror(errno));
}
