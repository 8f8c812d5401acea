/* restore-shmem: re-create shared memory objects in the restorer, and open
 * the fds the tasks had on memfds (memfd.h).
 *
 * Shared anonymous memory is re-created as what it was, a "/dev/zero
 * (deleted)" shmem object: the restorer maps MAP_SHARED|MAP_ANONYMOUS memory
 * of the object's size, fills it, and takes a file for it through
 * /proc/self/map_files, which the task then maps at its addresses. A memfd
 * is re-created with its name, size, contents, mode, owner and then its
 * seals. Either becomes one transfer fd, which every task inherits: every
 * VMA of every task that mapped the object maps that one file again, so the
 * tasks share it as they did. An fd on a memfd is a reopen of that file
 * through /proc/self/fd (its own open file description, with its flags and
 * offset), opened once per files.img entry and handed out as dups.
 * Creation (restore_shmem_prepare: the transfer fds, before the tasks' mm
 * are prepared) and contents (restore_shmem_fill: after restore_lazy_plan()
 * chose the objects filled lazily) are two steps. A lazy object gets, for
 * each page the image holds, a placeholder fallocate()d into its page cache
 * instead of its contents, and goes to lazy-pages (lazy-shm.h says why the
 * placeholders); its mode, owner and seals are set all the same. The pages a dump left in the
 * parent images of its chain (PE_PARENT) are written in first from there (restore-chain.h),
 * lazy object or not: a lazy restore after pre-copy serves only the last round's pages. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "shmem: "
#include "criu-lite/log.h"
#include "criu-lite/kinds/memfd.h"
#include "criu-lite/restore/restore-chain.h"
#include "criu-lite/restore/restore-lazy.h"
#include "criu-lite/restore/restore.h"

#define PG	   4096ULL
#define FILL_PIECE (1ULL << 20) /* read and written at once */

/* The kernel's O_LARGEFILE on x86, which fdinfo shows (glibc's is 0 on 64-bit). */
#define KERNEL_O_LARGEFILE 0100000
/* Status flags a memfd fd is reopened with; creation flags and O_CLOEXEC (per fd) are
 * dropped, anything else is warned about. */
#define MEMFD_KEEP                                                                     \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | \
	 KERNEL_O_LARGEFILE)
#define MEMFD_DROP (O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC)

/* One open file description per FT_MEMFD entry of files.img. */
struct restore_memfd {
	uint32_t file_id;
	int fd; /* restorer's, O_CLOEXEC, below xfer_base */
};

struct restore_memfds {
	struct restore_memfd *v;
	size_t n;
};

/* An object's pages, opened without reading them: they are checked as restore_shmem_fill()
 * reads them, before any task exists (a lazy migration's come from lazy-pages). */
static int open_pages(struct restore_ctx *c, uint32_t id, struct page_reader **out)
{
	struct img_err err = { 0 };
	int ret;

	if (restore_lazy_remote(c))
		return restore_lazy_pages_open(c, IMG_SHMEM_PAGEMAP, id, out);
	ret = page_reader_open_unchecked(c->dir, IMG_SHMEM_PAGEMAP, id, out, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

int restore_shmem_read(struct restore_ctx *c)
{
	struct img_reader *r;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	size_t n;
	int ret;

	if (faccessat(img_dir_fd(c->dir), "shmem.img", F_OK, 0))
		return 0; /* no shared memory in this dump */
	ret = img_reader_open(c->dir, IMG_SHMEM, 0, &r, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	n = img_reader_count(r);
	c->shmem = calloc(n + 1, sizeof(*c->shmem));
	c->shmem_pages = calloc(n + 1, sizeof(*c->shmem_pages));
	c->shmem_fds = malloc((n + 1) * sizeof(int));
	c->shmem_lazy = calloc(n + 1, sizeof(*c->shmem_lazy));
	if (!c->shmem || !c->shmem_pages || !c->shmem_fds || !c->shmem_lazy) {
		pr_err("shmem.img: out of memory for %zu objects\n", n);
		img_reader_close(r);
		return -ENOMEM;
	}
	c->nr_shmem = n; /* restore_shmem_free() frees what the arrays hold from now on */
	for (size_t i = 0; i < c->nr_shmem; i++)
		c->shmem_fds[i] = -1;
	for (size_t i = 0; i < c->nr_shmem; i++) {
		ret = img_read(r, &m, &err);
		if (ret != 1)
			break;
		c->shmem[i] = (ShmemEntry *)m;
		ret = open_pages(c, c->shmem[i]->id, &c->shmem_pages[i]);
		if (ret) {
			img_reader_close(r);
			return ret;
		}
		ret = 1;
	}
	img_reader_close(r);
	if (ret != 1) {
		pr_err("%s\n", err.msg);
		return ret < 0 ? ret : -EBADMSG;
	}
	for (size_t i = 0; i < c->nr_shmem; i++)
		if ((ret = restore_manifest_pages(c, page_reader_pages_name(c->shmem_pages[i]),
						  page_reader_crc(c->shmem_pages[i]))) ||
		    (ret = restore_chain_shmem(c, i)))
			return ret;
	return 0;
}

/* Object offsets of the runs must lie inside the object. */
static int check_runs(const ShmemEntry *e, const struct page_reader *pr)
{
	const struct page_run *runs = page_reader_runs(pr);
	size_t n = page_reader_nr_runs(pr);

	if (n && runs[n - 1].vaddr + runs[n - 1].nr_pages * PG > ((e->size + PG - 1) & ~(PG - 1))) {
		pr_err("pagemap-shmem-%u.img: pages beyond the object's %llu bytes\n", e->id,
		       (unsigned long long)e->size);
		return -EBADMSG;
	}
	return 0;
}

static int make_anon(const ShmemEntry *e)
{
	char path[96];
	char *p;
	int fd;

	p = mmap(NULL, e->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		pr_perror("can't create shared memory object %u of %llu bytes", e->id,
			  (unsigned long long)e->size);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)(p + ((e->size + PG - 1) & ~(PG - 1))));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open shared memory object %u through %s", e->id, path);
	munmap(p, e->size);
	return fd < 0 ? -errno : fd;
}

static int make_memfd(const ShmemEntry *e)
{
	int fd = memfd_create(e->name ? e->name : "", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		pr_perror("can't create memfd \"%s\"", e->name ? e->name : "");
		return -errno;
	}
	if (ftruncate(fd, (off_t)e->size)) {
		pr_perror("can't size memfd \"%s\" to %llu bytes", e->name,
			  (unsigned long long)e->size);
		close(fd);
		return -errno;
	}
	return fd;
}

/* len bytes of data at offset at of the object, clipped to its size (its last page may be
 * partial). */
static int put_pages(const ShmemEntry *e, int fd, uint64_t at, const void *data, uint64_t len)
{
	if (at >= e->size)
		return 0;
	if (len > e->size - at)
		len = e->size - at;
	if (pwrite(fd, data, len, (off_t)at) != (ssize_t)len) {
		pr_perror("shared memory object %u: can't write %llu bytes at %#llx", e->id,
			  (unsigned long long)len, (unsigned long long)at);
		return -errno ? -errno : -EIO;
	}
	return 0;
}

/* Bytes [off, off + len) of pr's pages file, checked: read into b (a lazy migration's: fetched
 * from lazy-pages into the reader's own memory). */
static int pages_at(struct page_reader *pr, uint64_t off, uint64_t len, struct page_buf *b,
		    const void **data)
{
	struct img_err err = { 0 };
	int ret;

	if (page_reader_fd(pr) >= 0) {
		ret = page_reader_read(pr, off, len, b, data, &err);
	} else {
		ret = page_reader_verify(pr, off, len, &err);
		*data = (const char *)page_reader_data(pr) + off;
	}
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

/* Every page the image holds, read in pieces and written into the object with pwrite(): no page
 * of the pages file or of the object is faulted in (through mappings, each costs a fault here:
 * ten times slower). */
static int fill(const ShmemEntry *e, int fd, struct page_reader *pr)
{
	const struct page_run *runs = page_reader_runs(pr);
	struct page_buf b = { 0 };
	int ret = 0;

	for (size_t i = 0; i < page_reader_nr_runs(pr) && !ret; i++) {
		uint64_t len = runs[i].nr_pages * PG;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT))
			continue;
		for (uint64_t x = 0; x < len && !ret; x += FILL_PIECE) {
			uint64_t n = len - x < FILL_PIECE ? len - x : FILL_PIECE;
			const void *data;

			ret = pages_at(pr, runs[i].offset + x, n, &b, &data)
				  ?: put_pages(e, fd, runs[i].vaddr + x, data, n);
		}
	}
	free(b.buf);
	return ret;
}

/* A placeholder in the page cache for each page the image holds (lazy-shm.h). */
static int placeholders(const ShmemEntry *e, int fd, const struct page_reader *pr)
{
	const struct page_run *runs = page_reader_runs(pr);

	for (size_t i = 0; i < page_reader_nr_runs(pr); i++)
		if ((runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT) &&
		    fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)runs[i].vaddr,
			      (off_t)(runs[i].nr_pages * PG))) {
			pr_perror("shared memory object %u: can't allocate %llu pages at %#llx",
				  e->id, (unsigned long long)runs[i].nr_pages,
				  (unsigned long long)runs[i].vaddr);
			return -errno;
		}
	return 0;
}

static int finish_memfd(const ShmemEntry *e, int fd)
{
	if (e->has_mode && fchmod(fd, e->mode)) {
		pr_perror("can't set mode %04o of memfd \"%s\"", e->mode, e->name);
		return -errno;
	}
	if (e->has_uid && e->has_gid && fchown(fd, e->uid, e->gid)) {
		pr_perror("can't give memfd \"%s\" to %u:%u", e->name, e->uid, e->gid);
		return -errno;
	}
	/* last: F_SEAL_WRITE/GROW/SHRINK/EXEC would refuse the steps above */
	if (e->has_seals && e->seals && fcntl(fd, F_ADD_SEALS, e->seals)) {
		pr_perror("can't seal memfd \"%s\" with %#x", e->name, e->seals);
		return -errno;
	}
	return 0;
}

int restore_shmem_prepare(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_shmem; i++) {
		const ShmemEntry *e = c->shmem[i];
		int fd, ret = check_runs(e, c->shmem_pages[i]);

		if (ret)
			return ret;
		fd = e->kind == SHMEM_KIND__SHMEM_MEMFD ? make_memfd(e) : make_anon(e);
		if (fd < 0)
			return fd;
		c->shmem_fds[i] = restore_xfer_fd(c, fd);
		if (c->shmem_fds[i] < 0)
			return c->shmem_fds[i];
		pr_info("shared memory object %u: %llu bytes as transfer fd %d\n", e->id,
			(unsigned long long)e->size, c->shmem_fds[i]);
	}
	return 0;
}

struct chain_put {
	const ShmemEntry *e;
	int fd;
};

/* chain_put_fn: pages from the chain's parent images, written into the object. */
static int put_from_chain(void *arg, uint64_t off, const void *data, uint64_t len)
{
	const struct chain_put *cp = arg;

	return put_pages(cp->e, cp->fd, off, data, len);
}

int restore_shmem_fill(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_shmem; i++) {
		const ShmemEntry *e = c->shmem[i];
		struct page_reader *pr = c->shmem_pages[i];
		int fd = c->shmem_fds[i], ret = 0;

		/* what the chain holds, eagerly (a lazy object: only its last dirty pages wait) */
		ret = restore_chain_shmem_fill(c, i, put_from_chain, &(struct chain_put){ e, fd });
		if (ret)
			return ret;
		if (c->shmem_lazy[i])
			ret = placeholders(e, fd, pr);
		else
			ret = fill(e, fd, pr);
		if (!ret && e->kind == SHMEM_KIND__SHMEM_MEMFD)
			ret = finish_memfd(e, fd);
		if (!ret && c->shmem_lazy[i])
			ret = restore_lazy_shmem(c, e, fd);
		if (ret)
			return ret;
	}
	return 0;
}

int restore_shmem_fd(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->nr_shmem; i++)
		if (c->shmem[i]->id == id && c->shmem_fds[i] >= 0)
			return c->shmem_fds[i];
	pr_err("shmem.img: no shared memory object %u\n", id);
	return -EBADMSG;
}

static int find_index(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->nr_shmem; i++)
		if (c->shmem[i]->id == id)
			return (int)i;
	return -1;
}

/* A dup of the entry's description (the table keeps its own), or -errno. */
static int dup_memfd(int fd, uint32_t file_id)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (d < 0) {
		d = -errno;
		pr_perror("memfd file %u: can't dup its fd %d", file_id, fd);
	}
	return d;
}

static int remember(struct restore_ctx *c, uint32_t file_id, int fd)
{
	struct restore_memfds *t = c->memfds;
	struct restore_memfd *nv;

	if (!t && !(t = c->memfds = calloc(1, sizeof(*t))))
		return -ENOMEM;
	nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	t->v[t->n++] = (struct restore_memfd){ file_id, fd };
	return 0;
}

/* The object's transfer fd reopened as the entry says: access mode, flags, offset. */
static int reopen(const struct restore_ctx *c, const FileEntry *fe, int i)
{
	const MemfdFileEntry *m = fe->memfd;
	const char *name = c->shmem[i]->name ? c->shmem[i]->name : "";
	uint32_t unknown = m->flags & ~(uint32_t)(MEMFD_KEEP | MEMFD_DROP);
	int flags = (int)(m->flags & MEMFD_KEEP), fd, ret;
	char path[64];

	if (unknown)
		pr_warn("memfd \"%s\" (file %u): open flags 0%o are not restored\n", name, fe->id,
			unknown);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->shmem_fds[i]);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("memfd \"%s\" (file %u): can't reopen %s with flags 0%o", name, fe->id,
			  path, flags);
		return ret;
	}
	if (m->pos && lseek(fd, (off_t)m->pos, SEEK_SET) != (off_t)m->pos) {
		ret = -errno;
		pr_perror("memfd \"%s\" (file %u): can't seek to %llu", name, fe->id,
			  (unsigned long long)m->pos);
		close(fd);
		return ret ? ret : -EIO;
	}
	return fd;
}

int restore_memfd_open(struct restore_ctx *c, const FileEntry *fe)
{
	const MemfdFileEntry *m = fe->memfd;
	int i, fd, ret;

	if (!m) {
		pr_err("files.img: memfd file %u has no memfd_file_entry\n", fe->id);
		return -EBADMSG;
	}
	for (size_t k = 0; c->memfds && k < c->memfds->n; k++)
		if (c->memfds->v[k].file_id == fe->id)
			return dup_memfd(c->memfds->v[k].fd, fe->id);
	i = find_index(c, m->shmem_id);
	if (i < 0 || c->shmem[i]->kind != SHMEM_KIND__SHMEM_MEMFD) {
		pr_err("files.img: memfd file %u refers to shared memory object %u, which is %s "
		       "in shmem.img\n",
		       fe->id, m->shmem_id, i < 0 ? "not" : "not a memfd");
		return -EBADMSG;
	}
	if (c->shmem_fds[i] < 0) {
		pr_err("memfd file %u: shared memory object %u was not created\n", fe->id,
		       m->shmem_id);
		return -EINVAL;
	}
	fd = reopen(c, fe, i);
	if (fd < 0)
		return fd;
	ret = remember(c, fe->id, fd);
	if (ret) {
		pr_err("out of memory for memfd file %u\n", fe->id);
		close(fd);
		return ret;
	}
	pr_info("memfd \"%s\" (object %u): file %u, flags 0%o, offset %llu\n",
		c->shmem[i]->name ? c->shmem[i]->name : "", m->shmem_id, fe->id, m->flags,
		(unsigned long long)m->pos);
	return dup_memfd(fd, fe->id);
}

void restore_shmem_free(struct restore_ctx *c)
{
	if (c->memfds) {
		for (size_t k = 0; k < c->memfds->n; k++)
			close(c->memfds->v[k].fd);
		free(c->memfds->v);
		free(c->memfds);
		c->memfds = NULL;
	}
	for (size_t i = 0; i < c->nr_shmem; i++) {
		if (c->shmem[i])
			shmem_entry__free_unpacked(c->shmem[i], NULL);
		page_reader_close(c->shmem_pages[i]);
		if (c->shmem_fds[i] >= 0)
			close(c->shmem_fds[i]);
	}
	free(c->shmem);
	free(c->shmem_pages);
	free(c->shmem_fds);
	free(c->shmem_lazy);
}
