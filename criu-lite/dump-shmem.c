/* dump-shmem: shared memory objects (shared anonymous memory, memfd).
 *
 * An object is keyed by the device and inode of its VMAs and dumped once.
 * Its pages are found on the object itself with lseek(SEEK_DATA/SEEK_HOLE)
 * through /proc/PID/map_files: a stock kernel reports a swapped-out shmem page
 * in pagemap exactly like a page never touched, so pagemap can't be trusted
 * here; SEEK_DATA sees resident and swapped pages alike. Contents are read
 * with pread into the page writer (pagemap-shmem-ID + pages-shmem-ID). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "shmem: "
#include "criu-lite/dump.h"
#include "criu-lite/log.h"
#include "images/pages.h"
#include "shmem.pb-c.h"

#define PG	   4096ULL
#define READ_CHUNK (8ULL << 20)

struct shmem_list {
	ShmemEntry **v;
	size_t n;
};

static ShmemEntry *find(struct shmem_list *l, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i]->dev == dev && l->v[i]->ino == ino)
			return l->v[i];
	return NULL;
}

static int read_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Every data range of the object, into the page writer. */
static int dump_contents(struct dump_ctx *c, int fd, const char *what, ShmemEntry *e)
{
	struct page_writer *pw;
	struct img_err err = { 0 };
	off_t off = 0, end = (off_t)e->size;
	int ret = 0;

	if (page_writer_open_kind(c->sh->dir, IMG_SHMEM_PAGEMAP, e->id, &pw, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	while (off < end && !ret) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break; /* no data after off */
		if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0) {
			pr_perror("pid %d: SEEK_DATA/SEEK_HOLE on %s", c->pid, what);
			ret = -errno;
			break;
		}
		if (hole > end)
			hole = end;
		data &= ~(off_t)(PG - 1);
		hole = (hole + PG - 1) & ~(off_t)(PG - 1);
		for (off_t o = data; o < hole && !ret; o += READ_CHUNK) {
			uint64_t len =
			    (uint64_t)(hole - o) < READ_CHUNK ? (uint64_t)(hole - o) : READ_CHUNK;
			void *buf = page_writer_reserve(pw, len / PG, &err);

			if (!buf) {
				pr_err("%s\n", err.msg);
				ret = -ENOMEM;
				break;
			}
			ret = read_all(fd, buf, len, o);
			if (ret) {
				errno = -ret;
				pr_perror("pid %d: read of %s at %lld", c->pid, what, (long long)o);
				break;
			}
			if (page_writer_add(pw, (uint64_t)o, len / PG, PAGEMAP_FLAGS__PE_PRESENT,
					    buf, &err)) {
				pr_err("%s\n", err.msg);
				ret = -EIO;
			}
			e->data_pages += len / PG;
		}
		off = hole;
	}
	if (ret) {
		page_writer_abort(pw);
		return ret;
	}
	if (page_writer_commit(pw, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	e->has_data_pages = true;
	return 0;
}

static int add(struct dump_ctx *c, ShmemEntry *e)
{
	struct shmem_list *l = c->sh->shmem;
	ShmemEntry **nv;

	if (!l && !(l = c->sh->shmem = calloc(1, sizeof(*l))))
		return -ENOMEM;
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = e;
	return 0;
}

static void free_entry(ShmemEntry *e)
{
	free(e->name);
	free(e);
}

int dump_shmem_vma(struct dump_ctx *c, const struct vma *v, uint32_t *id)
{
	ShmemEntry *e = find(c->sh->shmem, v->dev, v->inode);
	char path[96];
	struct stat st;
	int fd, ret;

	if (e) {
		*id = e->id;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", c->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("pid %d: can't open shared memory of VMA %#llx through %s", c->pid,
			  (unsigned long long)v->start, path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	shmem_entry__init(e);
	e->id = c->sh->next_shmem_id++;
	e->size = (uint64_t)st.st_size;
	e->has_dev = e->has_ino = true;
	e->dev = v->dev;
	e->ino = v->inode;
	if (vma_is_memfd(v)) {
		size_t nlen = vma_name_len(v);
		int seals = fcntl(fd, F_GET_SEALS);

		e->kind = SHMEM_KIND__SHMEM_MEMFD;
		/* "/memfd:NAME" */
		e->name = strndup(v->name + 7, nlen > 7 ? nlen - 7 : 0);
		if (seals >= 0) {
			e->has_seals = true;
			e->seals = (uint32_t)seals;
		}
	} else {
		e->kind = SHMEM_KIND__SHMEM_ANON;
	}
	ret = dump_contents(c, fd, path, e);
	close(fd);
	if (!ret)
		ret = add(c, e);
	if (ret) {
		free_entry(e);
		return ret;
	}
	pr_info("pid %d: shared memory object %u (%s, %llu bytes, %llu data pages)\n", c->pid,
		e->id, e->kind == SHMEM_KIND__SHMEM_MEMFD ? "memfd" : "anonymous",
		(unsigned long long)e->size, (unsigned long long)e->data_pages);
	*id = e->id;
	return 0;
}

int dump_shmem_commit(struct dump_ctx *c)
{
	struct img_writer *w = NULL;
	struct img_err err = { 0 };
	int ret;

	if (!c->sh->shmem || !c->sh->shmem->n)
		return 0;
	ret = img_writer_open(c->sh->dir, IMG_SHMEM, 0, &w, &err);
	for (size_t i = 0; !ret && i < c->sh->shmem->n; i++)
		ret = img_write(w, &c->sh->shmem->v[i]->base, &err);
	if (!ret)
		ret = img_writer_commit(w, &err);
	else if (w)
		img_writer_abort(w);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

void dump_shmem_free(struct dump_ctx *c)
{
	if (!c->sh->shmem)
		return;
	for (size_t i = 0; i < c->sh->shmem->n; i++)
		free_entry(c->sh->shmem->v[i]);
	free(c->sh->shmem->v);
	free(c->sh->shmem);
	c->sh->shmem = NULL;
}
