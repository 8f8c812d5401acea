/* manifest: what one dump's set of files is: the directory lock, the dump id in record
 * headers, the list of files committed through an img_dir (the dump writes it into
 * inventory.img as the manifest, last), the crc of a whole file to check it against, and the
 * clean-up of a failed or killed dump. See img.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "images/img-priv.h"
#include "images/img.h"
#include "inventory.pb-c.h"

/* The pid that holds a flock on inode ino of device dev, from /proc/locks; 0 if none is seen. */
static pid_t lock_holder(dev_t dev, ino_t ino)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	pid_t holder = 0;

	if (!f)
		return 0;
	while (!holder && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long i;
		int pid;

		if (strstr(line, "FLOCK") &&
		    sscanf(strstr(line, "FLOCK"), "FLOCK %*s %*s %d %x:%x:%llu", &pid, &maj, &min,
			   &i) == 4 &&
		    makedev(maj, min) == dev && i == ino)
			holder = pid;
	}
	fclose(f);
	return holder;
}

int img_dir_lock(struct img_dir *d, bool exclusive, struct img_err *err)
{
	struct stat st;
	char who[64] = "";
	pid_t holder;

	if (!flock(d->fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB))
		return 0;
	if (errno == ENOSYS) /* a kernel built without file locking */
		return 1;
	if (errno != EWOULDBLOCK)
		return img_fail(err, errno, "%s: flock: %s", d->path, strerror(errno));
	holder = fstat(d->fd, &st) ? 0 : lock_holder(st.st_dev, st.st_ino);
	if (holder) {
		char path[64], comm[32] = "?";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", holder);
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(who, sizeof(who), ": pid %d (%s) holds it", holder, comm);
	}
	return img_fail(err, EBUSY, "%s is in use by %s%s", d->path,
			exclusive ? "another criu-lite" : "a dump writing into it", who);
}

int img_dir_remove_tmp(struct img_dir *d, struct img_err *err)
{
	int dfd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return img_fail(err, errno, "%s: cannot list: %s", d->path, strerror(errno));
	}
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);

		if (l > 8 && !strcmp(de->d_name + l - 8, ".img.tmp") &&
		    !unlinkat(dfd, de->d_name, 0))
			n++;
	}
	closedir(dir);
	return n;
}

void img_dir_set_dump_id(struct img_dir *d, uint32_t id)
{
	d->dump_id = id;
}

void img_dir_expect_dump_id(struct img_dir *d, uint32_t id)
{
	d->expect_id = id;
}

int img_dir_note(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
		 struct img_err *err)
{
	if (d->nnotes == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 32;
		struct img_note *v = realloc(d->notes, cap * sizeof(*v));

		if (!v)
			return img_fail(err, ENOMEM, "%s: out of memory for the file list", name);
		d->notes = v;
		d->cap = cap;
	}
	d->notes[d->nnotes].name = strdup(name);
	if (!d->notes[d->nnotes].name)
		return img_fail(err, ENOMEM, "%s: out of memory for the file list", name);
	d->notes[d->nnotes].size = size;
	d->notes[d->nnotes].crc = crc;
	d->notes[d->nnotes].elsewhere = false;
	d->nnotes++;
	return 0;
}

int img_dir_note_elsewhere(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
			   struct img_err *err)
{
	int ret = img_dir_note(d, name, size, crc, err);

	if (!ret)
		d->notes[d->nnotes - 1].elsewhere = true;
	return ret;
}

void img_dir_sync_later(struct img_dir *d)
{
	if (!img_dir_is_sink(d))
		d->sync_later = true;
}

int img_dir_sync(struct img_dir *d, struct img_err *err)
{
	if (!d->sync_later)
		return 0;
	d->sync_later = false;
	for (size_t i = 0; i < d->nnotes; i++) {
		int fd;

		if (d->notes[i].elsewhere)
			continue;
		fd = openat(d->fd, d->notes[i].name, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd)) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return img_fail(err, e, "%s: fsync: %s", d->notes[i].name, strerror(e));
		}
		close(fd);
	}
	if (fsync(d->fd))
		return img_fail(err, errno, "%s: fsync of the image directory: %s", d->path,
				strerror(errno));
	return 0;
}

size_t img_dir_nr_written(const struct img_dir *d)
{
	return d->nnotes;
}

struct img_file_note img_dir_written(const struct img_dir *d, size_t i)
{
	return (struct img_file_note){ d->notes[i].name, d->notes[i].size, d->notes[i].crc };
}

int img_dir_remove_written(struct img_dir *d, struct img_err *err)
{
	int ret = 0;

	if (d->sink)
		return d->sink->discard(d->sink_arg, err);
	for (size_t i = d->nnotes; i-- > 0;)
		if (unlinkat(d->fd, d->notes[i].name, 0) && errno != ENOENT && !ret)
			ret = img_fail(err, errno, "%s/%s: cannot remove: %s", d->path,
				       d->notes[i].name, strerror(errno));
	return ret;
}

int img_file_crc(struct img_dir *d, const char *name, uint64_t *size, uint32_t *crc,
		 struct img_err *err)
{
	int fd = openat(d->fd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return img_fail(err, errno, "%s: cannot open in %s: %s", name, d->path,
				strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return img_fail(err, errno, "%s: stat: %s", name, strerror(errno));
	}
	*size = (uint64_t)st.st_size;
	*crc = 0;
	if (st.st_size) {
		long id;
		/* a record file ends with the crc of what comes before it: not summed (the sum of
		 * data and its own crc32c is the same for every file) */
		size_t len = (size_t)st.st_size -
			     (img_kind_by_filename(name, &id) && st.st_size >= 4 ? 4 : 0);
		int ret = img_pread_crc32c(fd, len, crc);

		if (ret) {
			close(fd);
			return img_fail(err, -ret, "%s: read to sum it: %s", name, strerror(-ret));
		}
	}
	close(fd);
	return 0;
}

int img_dir_dump_id(struct img_dir *d, uint32_t *id, struct img_err *err)
{
	InventoryEntry *inv;
	int ret = img_read_one(d, IMG_INVENTORY, 0, (ProtobufCMessage **)&inv, err);

	if (ret)
		return ret;
	if (inv->has_dump_id)
		*id = inv->dump_id;
	else
		ret = img_fail(err, ENOTSUP,
			       "%s/inventory.img has no dump id (a dump by an older criu-lite)",
			       img_dir_path(d));
	inventory_entry__free_unpacked(inv, NULL);
	return ret;
}
