/* ghost: see ghost.h. Data extents are copied in 1 MiB reads (the crc needs
 * the bytes in user space anyway); restore verifies before it creates. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOG_PREFIX "ghost: "
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"

#define COPY_CHUNK	 (1UL << 20)
#define SIBLING_ATTEMPTS 100

void ghost_image_name(char *buf, size_t len, uint32_t id)
{
	snprintf(buf, len, "ghost-%u.img", id);
}

static int pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Up to len bytes; 0 at the end of the file, -errno on failure. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static char *chunk_buf(void)
{
	char *buf = malloc(COPY_CHUNK);

	if (!buf)
		pr_err("out of memory for a %lu byte copy buffer\n", COPY_CHUNK);
	return buf;
}

void ghost_extents_free(struct ghost_extents *e)
{
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

uint64_t ghost_extents_bytes(const struct ghost_extents *e)
{
	uint64_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		n += e->v[i].len;
	return n;
}

int ghost_extents_of(const RegFileEntry *re, struct ghost_extents *e)
{
	size_t n = re->has_ghost_sparse && re->ghost_sparse ? re->n_ghost_extents
		   : re->size				    ? 1
							    : 0;

	e->n = 0;
	e->v = calloc(n + 1, sizeof(*e->v));
	if (!e->v) {
		pr_err("out of memory for the extents of deleted file %s\n", re->path);
		return -ENOMEM;
	}
	if (!(re->has_ghost_sparse && re->ghost_sparse))
		e->v[0] = (struct ghost_extent){ 0, re->size };
	else
		for (size_t i = 0; i < n; i++)
			e->v[i] = (struct ghost_extent){ re->ghost_extents[i]->offset,
							 re->ghost_extents[i]->len };
	e->n = n;
	return 0;
}

static int add_extent(struct ghost_extents *e, uint64_t off, uint64_t len)
{
	struct ghost_extent *v = realloc(e->v, (e->n + 1) * sizeof(*v));

	if (!v) {
		pr_err("out of memory for the extents of a deleted file\n");
		return -ENOMEM;
	}
	e->v = v;
	e->v[e->n++] = (struct ghost_extent){ off, len };
	return 0;
}

/* The data extents of src within [0, size), as SEEK_DATA / SEEK_HOLE show them (a file system
 * without holes shows one extent). */
static int find_extents(int src, const char *what, const char *path, uint64_t size,
			struct ghost_extents *e)
{
	uint64_t off = 0;

	while (off < size) {
		off_t data = lseek(src, (off_t)off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break; /* a hole up to the end */
		if (data >= 0)
			hole = lseek(src, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			pr_perror("%s: can't find the data of deleted file %s (SEEK_DATA/SEEK_HOLE "
				  "from %llu)",
				  what, path, (unsigned long long)off);
			return -errno;
		}
		if ((uint64_t)data >= size)
			break;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		if (add_extent(e, (uint64_t)data, (uint64_t)(hole - data)))
			return -ENOMEM;
		off = (uint64_t)hole;
	}
	return 0;
}

/* Copy the extents of src to rf. */
static int save_copy(int src, struct raw_file *rf, const char *what, const char *path,
		     const struct ghost_extents *e, uint32_t *crc)
{
	char *buf = chunk_buf();
	uint64_t at = 0; /* in the image */
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	*crc = 0;
	for (size_t i = 0; i < e->n && !ret; i++) {
		for (uint64_t done = 0; done < e->v[i].len && !ret;) {
			uint64_t left = e->v[i].len - done;
			size_t want = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
			ssize_t n = pread(src, buf, want, (off_t)(e->v[i].off + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ret = n < 0 ? -errno : -EAGAIN;
				pr_err("%s: can't read deleted file %s at %llu: %s\n", what, path,
				       (unsigned long long)(e->v[i].off + done),
				       n < 0 ? strerror(-ret) : "it shrank while being saved");
				break;
			}
			*crc = img_crc32c(*crc, buf, (size_t)n);
			ret = pwrite_all(rf->fd, buf, (size_t)n, at);
			at += (uint64_t)n;
			if (ret)
				pr_err("%s: can't write %s for deleted file %s: %s (errno %d)\n",
				       what, rf->tmp, path, strerror(-ret), -ret);
			done += (uint64_t)n;
		}
	}
	free(buf);
	return ret;
}

/* The file is still size bytes long: it did not change under us. */
static int same_size(int src, const char *what, const char *path, uint64_t size)
{
	struct stat st;

	if (fstat(src, &st)) {
		pr_perror("%s: can't stat deleted file %s", what, path);
		return -errno;
	}
	if ((uint64_t)st.st_size != size) {
		pr_err("%s: deleted file %s changed size while being saved: %llu -> %lld bytes\n",
		       what, path, (unsigned long long)size, (long long)st.st_size);
		return -EAGAIN;
	}
	return 0;
}

static void size_str(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", (double)b / (1 << 20));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)b);
}

int ghost_save(struct img_dir *d, uint32_t id, const char *what, const char *via, const char *path,
	       uint64_t size, uint64_t limit, struct ghost_extents *ext, uint32_t *crc)
{
	struct img_err err = { 0 };
	struct raw_file rf;
	char name[64], data_s[32], size_s[32], limit_s[32];
	uint64_t data;
	int src, ret;

	ext->v = NULL;
	ext->n = 0;
	src = open(via, O_RDONLY | O_CLOEXEC);
	if (src < 0) {
		ret = -errno;
		pr_perror("%s: can't open deleted file %s through %s", what, path, via);
		return ret;
	}
	ret = find_extents(src, what, path, size, ext);
	data = ghost_extents_bytes(ext);
	if (!ret && data > limit) {
		size_str(data, data_s, sizeof(data_s));
		size_str(size, size_s, sizeof(size_s));
		size_str(limit, limit_s, sizeof(limit_s));
		pr_err("%s: deleted file %s holds %s of data (%s long): more than --ghost-limit "
		       "(%s); dump with a larger --ghost-limit to save it\n",
		       what, path, data_s, size_s, limit_s);
		ret = -EFBIG;
	}
	ghost_image_name(name, sizeof(name), id);
	if (!ret && (ret = raw_file_create(d, name, &rf, &err)))
		pr_err("%s: %s\n", what, err.msg);
	if (ret) {
		ghost_extents_free(ext);
		close(src);
		return ret;
	}
	ret = save_copy(src, &rf, what, path, ext, crc);
	if (!ret)
		ret = same_size(src, what, path, size);
	close(src);
	if (!ret && (ret = raw_file_commit(&rf, &err)))
		pr_err("%s: %s\n", what, err.msg);
	else if (ret)
		raw_file_abort(&rf);
	if (ret) {
		ghost_extents_free(ext);
		return ret;
	}
	pr_debug("%s: deleted file %s saved as %s (%llu bytes, %llu of data in %zu extent(s), "
		 "crc32c %08x)\n",
		 what, path, name, (unsigned long long)size, (unsigned long long)data, ext->n,
		 *crc);
	return 0;
}

static int open_image(struct img_dir *d, const char *name, uint64_t size)
{
	struct stat st;
	int fd = openat(img_dir_fd(d), name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		pr_perror("can't open %s/%s", img_dir_path(d), name);
		return -e;
	}
	if (fstat(fd, &st)) {
		int e = errno;

		pr_perror("can't stat %s/%s", img_dir_path(d), name);
		close(fd);
		return -e;
	}
	if ((uint64_t)st.st_size != size) {
		pr_err("%s/%s: %lld bytes, files.img says %llu: the image is damaged\n",
		       img_dir_path(d), name, (long long)st.st_size, (unsigned long long)size);
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

/* Extents inside size, ascending and disjoint: else -EBADMSG (logged). */
static int check_extents(const char *dir, const char *name, uint64_t size,
			 const struct ghost_extents *e)
{
	uint64_t end = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct ghost_extent *x = &e->v[i];

		if (!x->len || x->off < end || x->off > size || x->len > size - x->off) {
			pr_err(
			    "%s/%s: extent %zu (%llu bytes at %llu) of a %llu byte file is out of "
			    "place: files.img is damaged\n",
			    dir, name, i, (unsigned long long)x->len, (unsigned long long)x->off,
			    (unsigned long long)size);
			return -EBADMSG;
		}
		end = x->off + x->len;
	}
	return 0;
}

int ghost_verify(struct img_dir *d, uint32_t id, uint64_t size, const struct ghost_extents *ext,
		 uint32_t crc)
{
	char name[64], *buf;
	uint32_t c = 0;
	int fd, ret = 0;

	ghost_image_name(name, sizeof(name), id);
	ret = check_extents(img_dir_path(d), name, size, ext);
	if (ret)
		return ret;
	fd = open_image(d, name, ghost_extents_bytes(ext));
	if (fd < 0)
		return fd;
	buf = chunk_buf();
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read_some(fd, buf, COPY_CHUNK);

		if (n < 0) {
			ret = (int)n;
			pr_err("can't read %s/%s: %s (errno %d)\n", img_dir_path(d), name,
			       strerror(-ret), -ret);
			break;
		}
		if (n == 0)
			break;
		c = img_crc32c(c, buf, (size_t)n);
	}
	free(buf);
	close(fd);
	if (!ret && c != crc) {
		pr_err("%s/%s: crc32c %08x, files.img says %08x: the image is damaged\n",
		       img_dir_path(d), name, c, crc);
		ret = -EBADMSG;
	}
	return ret;
}

/* O_EXCL-create path, or the first free "<path>.ghost-<id>-<n>". */
/* A new file at path, or at a free sibling name (*out_path): a regular file (type 0; its fd, to
 * fill), or a directory, FIFO or character device node (S_IFDIR, S_IFIFO, S_IFCHR with rdev;
 * 0 for it). */
/* A new name at path or a free sibling of it: a file (type 0; its O_WRONLY fd), directory or
 * node (type; 0), or with link >= 0 a hard link to that fd's inode (0). */
static int create_unique(const char *path, uint32_t id, mode_t type, dev_t rdev, int link,
			 char **out_path)
{
	char *p = strdup(path);

	for (int n = 0; p && n <= SIBLING_ATTEMPTS; n++) {
		int fd;

		if (n) {
			free(p);
			if (asprintf(&p, "%s.ghost-%u-%d", path, id, n) < 0)
				p = NULL;
			if (!p)
				break;
		}
		if (link >= 0)
			fd = linkat(link, "", AT_FDCWD, p, AT_EMPTY_PATH);
		else if (!type)
			fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		else if (type == S_IFDIR)
			fd = mkdir(p, 0700);
		else
			fd = mknod(p, type | 0600, type == S_IFCHR ? rdev : 0);
		if (fd >= 0) {
			*out_path = p;
			return fd;
		}
		if (errno != EEXIST) {
			int e = errno;

			pr_perror("can't recreate deleted file %s as %s", path, p);
			free(p);
			return -e;
		}
	}
	if (!p) {
		pr_err("out of memory recreating deleted file %s\n", path);
		return -ENOMEM;
	}
	pr_err("can't recreate deleted file %s: it and %d sibling names are taken\n", path,
	       SIBLING_ATTEMPTS);
	free(p);
	return -EEXIST;
}

/* dst becomes size bytes of holes, then each extent gets its data from src, in order. */
static int fill(int src, int dst, const char *name, const char *path, uint64_t size,
		const struct ghost_extents *e)
{
	char *buf;
	int ret = 0;

	if (ftruncate(dst, (off_t)size)) {
		pr_perror("can't make recreated deleted file %s %llu bytes long", path,
			  (unsigned long long)size);
		return -errno;
	}
	buf = chunk_buf();
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < e->n && !ret; i++) {
		for (uint64_t done = 0; done < e->v[i].len && !ret;) {
			uint64_t left = e->v[i].len - done;
			ssize_t n =
			    read_some(src, buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);

			if (n <= 0) {
				ret = n < 0 ? (int)n : -EBADMSG;
				pr_err("can't read %s: %s\n", name,
				       n < 0 ? strerror(-ret) : "it ended early");
				break;
			}
			ret = pwrite_all(dst, buf, (size_t)n, e->v[i].off + done);
			if (ret)
				pr_err("can't write recreated deleted file %s at %llu: %s (errno "
				       "%d)\n",
				       path, (unsigned long long)(e->v[i].off + done),
				       strerror(-ret), -ret);
			done += (uint64_t)n;
		}
	}
	free(buf);
	return ret;
}

/* Directories made for a file whose directory was deleted too, outermost first. */
struct made_dirs {
	char *v[PATH_MAX / 2];
	size_t n;
};

/* Make the missing directories above path (mode 0700: they go again once the file is made). */
static int make_parents(const char *path, struct made_dirs *m)
{
	char *dir = strdup(path), *slash;
	struct stat st;
	size_t first;
	int ret = 0;

	m->n = 0;
	if (!dir)
		return -ENOMEM;
	/* up to the first directory that exists */
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (!stat(dir, &st))
			break;
		if (errno != ENOENT || m->n == sizeof(m->v) / sizeof(m->v[0])) {
			ret = errno == ENOENT ? -ENAMETOOLONG : -errno;
			break;
		}
		if (!(m->v[m->n++] = strdup(dir))) {
			ret = -ENOMEM;
			break;
		}
	}
	free(dir);
	/* then down, outermost first */
	for (size_t i = 0; i < m->n / 2; i++) {
		char *t = m->v[i];

		m->v[i] = m->v[m->n - 1 - i];
		m->v[m->n - 1 - i] = t;
	}
	for (first = 0; !ret && first < m->n; first++)
		if (mkdir(m->v[first], 0700)) {
			ret = -errno;
			pr_perror("can't make directory %s again for deleted file %s", m->v[first],
				  path);
		}
	if (ret) { /* forget what was not made */
		for (size_t i = first ? first - 1 : 0; i < m->n; i++)
			free(m->v[i]);
		m->n = first ? first - 1 : 0;
	}
	if (m->n)
		pr_debug("deleted file %s: its directory %s was deleted too; made for now\n", path,
			 m->v[0]);
	return ret;
}

static void remove_parents(struct made_dirs *m)
{
	while (m->n) {
		char *d = m->v[--m->n];

		if (rmdir(d))
			pr_perror("can't remove directory %s made for a deleted file", d);
		free(d);
	}
}

/* Owner, mode and mtime of the recreated file fd (any kind: an O_PATH fd too, through its
 * /proc/self/fd link) at path. */
static int set_attrs(int fd, const char *path, const struct ghost_attr *a)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (a->has_owner && chown(proc, a->uid, a->gid)) {
		pr_perror("can't chown recreated deleted file %s to %u:%u", path, a->uid, a->gid);
		return -errno;
	}
	/* after chown, which may clear set-id bits */
	if (chmod(proc, a->mode & 07777)) {
		pr_perror("can't chmod recreated deleted file %s to %04o", path, a->mode & 07777);
		return -errno;
	}
	if (a->has_mtime) {
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT },
			{ .tv_sec = a->mtime_ns / 1000000000, .tv_nsec = a->mtime_ns % 1000000000 },
		};

		if (ts[1].tv_nsec < 0) {
			ts[1].tv_sec--;
			ts[1].tv_nsec += 1000000000;
		}
		if (utimensat(AT_FDCWD, proc, ts, 0)) {
			pr_perror("can't set the mtime of recreated deleted file %s", path);
			return -errno;
		}
	}
	return 0;
}

/* The recreated file at tmp gets path's name; the file there goes back to path, and the
 * recreated one is left unlinked. 0, or -errno with the recreated file unlinked. */
static int swap_in(const char *tmp, const char *path, bool dir)
{
	int ret;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE)) {
		ret = -errno;
		pr_perror("can't give recreated deleted file %s its name %s", tmp, path);
		if (dir)
			rmdir(tmp);
		else
			unlink(tmp);
		return ret;
	}
	/* tmp is now the other file: renaming it back unhashes our dentry, name kept */
	if (rename(tmp, path)) {
		int e = errno;
		bool undone = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0 &&
			      unlink(tmp) == 0;

		pr_err("can't rename %s back to %s: %s (errno %d)%s%s\n", tmp, path, strerror(e), e,
		       undone ? "" : "; that file is now at ", undone ? "" : tmp);
		return -e;
	}
	return 0;
}

int ghost_recreate(struct img_dir *d, uint32_t id, uint64_t size, const struct ghost_extents *ext,
		   const char *path, const struct ghost_attr *a)
{
	char name[64], iname[sizeof(name) + 256], *p = NULL;
	struct made_dirs *made = calloc(1, sizeof(*made));
	int src, dst, fd, ret;

	ghost_image_name(name, sizeof(name), id);
	snprintf(iname, sizeof(iname), "%s/%s", img_dir_path(d), name);
	if (!made)
		return -ENOMEM;
	src = open_image(d, name, ghost_extents_bytes(ext));
	ret = src < 0 ? src : make_parents(path, made);
	dst = ret ? ret : create_unique(path, id, 0, 0, -1, &p);
	if (dst < 0) {
		if (src >= 0)
			close(src);
		remove_parents(made);
		free(made);
		return dst;
	}
	ret = fill(src, dst, iname, p, size, ext);
	close(src);
	if (!ret)
		ret = set_attrs(dst, p, a);
	if (close(dst) && !ret) {
		ret = -errno;
		pr_perror("can't close recreated deleted file %s", p);
	}
	fd = ret ? -1 : open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (!ret && fd < 0) {
		ret = -errno;
		pr_perror("can't open recreated deleted file %s", p);
	}
	if (ret) {
		unlink(p);
	} else if (strcmp(p, path) == 0) {
		if (unlink(p)) {
			ret = -errno;
			pr_perror("can't unlink recreated deleted file %s", p);
		}
	} else {
		ret = swap_in(p, path, false);
	}
	remove_parents(made);
	free(made);
	if (ret) {
		if (fd >= 0)
			close(fd);
		free(p);
		return ret;
	}
	pr_debug("deleted file %s recreated%s%s from %s (%llu bytes, %llu of data)\n", path,
		 strcmp(p, path) ? " by way of " : "", strcmp(p, path) ? p : "", name,
		 (unsigned long long)size, (unsigned long long)ghost_extents_bytes(ext));
	free(p);
	return fd;
}

/* set_attrs() by path: a FIFO or device node can't be opened without effects. */
static int set_attrs_path(const char *p, const struct ghost_attr *a)
{
	int fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC), ret;

	if (fd < 0) {
		pr_perror("can't open recreated deleted file %s", p);
		return -errno;
	}
	ret = set_attrs(fd, p, a);
	close(fd);
	return ret;
}

int ghost_recreate_node(uint32_t id, const char *path, const struct ghost_attr *a, dev_t rdev)
{
	struct made_dirs *made = calloc(1, sizeof(*made));
	mode_t type = a->mode & S_IFMT;
	bool dir = type == S_IFDIR;
	char *p = NULL;
	int fd = -1, ret;

	if (!made)
		return -ENOMEM;
	if (type != S_IFDIR && type != S_IFIFO && type != S_IFCHR) {
		free(made);
		pr_err("deleted file %s: mode 0%o is no directory, FIFO or device\n", path,
		       a->mode);
		return -EINVAL;
	}
	ret = make_parents(path, made);
	if (!ret)
		ret = create_unique(path, id, type, rdev, -1, &p);
	if (!ret)
		ret = set_attrs_path(p, a);
	if (!ret && (fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		ret = -errno;
		pr_perror("can't open recreated deleted file %s", p);
	}
	if (p && ret) {
		if (dir)
			rmdir(p);
		else
			unlink(p);
	} else if (p && strcmp(p, path) == 0) {
		if (dir ? rmdir(p) : unlink(p)) {
			ret = -errno;
			pr_perror("can't remove recreated deleted file %s", p);
		}
	} else if (p) {
		ret = swap_in(p, path, dir);
	}
	remove_parents(made);
	free(made);
	free(p);
	if (ret && fd >= 0)
		close(fd);
	if (!ret)
		pr_debug("deleted %s %s recreated\n", dir ? "directory" : "node", path);
	return ret ? ret : fd;
}

/* A directory fd of a mount of h's file system: its dumped mount point when it is on that
 * device, else the first mount of that device in our mountinfo; -errno (logged). */
static int open_mount(const char *path, const struct ghost_handle *h)
{
	struct stat st;
	int fd = open(h->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *mp;

	if (fd >= 0 && (!h->dev || (!fstat(fd, &st) && st.st_dev == (dev_t)h->dev)))
		return fd;
	if (fd >= 0)
		close(fd);
	fd = -1;
	mp = h->dev ? proc_mount_point(0, -1, (dev_t)h->dev) : NULL;
	if (mp)
		fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(mp);
	if (fd < 0)
		pr_err("deleted file %s was linked by another name at dump: no mount of its file "
		       "system (%s, device %u:%u) is here\n",
		       path, h->mnt, major((dev_t)h->dev), minor((dev_t)h->dev));
	return fd < 0 ? -ENOENT : fd;
}

/* The inode of h, opened O_PATH by its file handle on a mount of its file system, checked. */
static int open_handle(const char *path, const struct ghost_handle *h)
{
	struct {
		struct file_handle fh;
		unsigned char b[sizeof(h->bytes)];
	} u = { .fh = { .handle_bytes = h->len, .handle_type = h->type } };
	struct stat st;
	int mfd, fd, ret;

	if (h->len > sizeof(h->bytes) || !h->mnt) {
		pr_err("deleted file %s: a file handle of %u bytes, or no mount\n", path, h->len);
		return -EBADMSG;
	}
	memcpy(u.fh.f_handle, h->bytes, h->len);
	mfd = open_mount(path, h);
	if (mfd < 0)
		return mfd;
	fd = open_by_handle_at(mfd, &u.fh, O_PATH | O_CLOEXEC);
	ret = fd < 0 ? -errno : 0;
	if (fd < 0)
		pr_perror("deleted file %s was linked by another name at dump; its inode can't be "
			  "found again on %s (open_by_handle_at%s)",
			  path, h->mnt, ret == -ESTALE ? ": it is gone since" : "");
	if (!ret && (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		     (h->ino && (!h->dev || st.st_dev == (dev_t)h->dev) && st.st_ino != h->ino))) {
		pr_err("deleted file %s: its file handle on %s opens another file now\n", path,
		       h->mnt);
		ret = -ESTALE;
	}
	close(mfd);
	if (ret && fd >= 0)
		close(fd);
	return ret ? ret : fd;
}

int ghost_relink(uint32_t id, const char *path, const struct ghost_handle *h)
{
	struct made_dirs *made = calloc(1, sizeof(*made));
	int src, fd = -1, ret;
	char *p = NULL;

	if (!made)
		return -ENOMEM;
	src = open_handle(path, h);
	ret = src < 0 ? src : make_parents(path, made);
	if (!ret)
		ret = create_unique(path, id, 0, 0, src, &p);
	if (!ret && (fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		ret = -errno;
		pr_perror("can't open deleted file %s linked again as %s", path, p);
	}
	if (p && ret) {
		unlink(p);
	} else if (p && strcmp(p, path) == 0) {
		if (unlink(p)) {
			ret = -errno;
			pr_perror("can't unlink deleted file %s linked again", p);
		}
	} else if (p) {
		ret = swap_in(p, path, false);
	}
	remove_parents(made);
	free(made);
	free(p);
	if (src >= 0)
		close(src);
	if (ret && fd >= 0)
		close(fd);
	if (!ret)
		pr_debug("deleted file %s opened again on its inode, which another name links\n",
			 path);
	return ret ? ret : fd;
}
