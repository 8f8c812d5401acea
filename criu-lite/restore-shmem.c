/* restore-shmem: re-create shared memory objects in the restorer.
 *
 * Shared anonymous memory is re-created as what it was, a "/dev/zero
 * (deleted)" shmem object: the restorer maps MAP_SHARED|MAP_ANONYMOUS memory
 * of the object's size, fills it, and takes a file for it through
 * /proc/self/map_files, which the task then maps at its addresses. A memfd
 * is re-created with its name, size and seals. Either becomes a transfer fd. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LOG_PREFIX "shmem: "
#include "criu-lite/log.h"
#include "criu-lite/restore.h"

#define PG 4096ULL

int restore_shmem_read(struct restore_ctx *c)
{
	struct img_reader *r;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	int ret;

	if (faccessat(img_dir_fd(c->dir), "shmem.img", F_OK, 0))
		return 0; /* no shared memory in this dump */
	ret = img_reader_open(c->dir, IMG_SHMEM, 0, &r, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	c->nr_shmem = img_reader_count(r);
	c->shmem = calloc(c->nr_shmem + 1, sizeof(*c->shmem));
	c->shmem_pages = calloc(c->nr_shmem + 1, sizeof(*c->shmem_pages));
	c->shmem_fds = malloc((c->nr_shmem + 1) * sizeof(int));
	if (!c->shmem || !c->shmem_pages || !c->shmem_fds) {
		img_reader_close(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nr_shmem; i++)
		c->shmem_fds[i] = -1;
	for (size_t i = 0; i < c->nr_shmem; i++) {
		ret = img_read(r, &m, &err);
		if (ret != 1)
			break;
		c->shmem[i] = (ShmemEntry *)m;
		ret = page_reader_open_kind(c->dir, IMG_SHMEM_PAGEMAP, c->shmem[i]->id,
					    &c->shmem_pages[i], &err);
		if (ret)
			break;
		ret = 1;
	}
	img_reader_close(r);
	if (ret != 1) {
		pr_err("%s\n", err.msg);
		return ret < 0 ? ret : -EBADMSG;
	}
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

static int fill_mem(char *p, const struct page_reader *pr)
{
	const struct page_run *runs = page_reader_runs(pr);
	const char *data = page_reader_data(pr);

	for (size_t i = 0; i < page_reader_nr_runs(pr); i++)
		if (runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT)
			memcpy(p + runs[i].vaddr, data + runs[i].offset, runs[i].nr_pages * PG);
	return 0;
}

static int make_anon(const ShmemEntry *e, const struct page_reader *pr)
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
	fill_mem(p, pr);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)(p + ((e->size + PG - 1) & ~(PG - 1))));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open shared memory object %u through %s", e->id, path);
	munmap(p, e->size);
	return fd < 0 ? -errno : fd;
}

static int make_memfd(const ShmemEntry *e, const struct page_reader *pr)
{
	const struct page_run *runs = page_reader_runs(pr);
	const char *data = page_reader_data(pr);
	int fd = memfd_create(e->name ? e->name : "", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		pr_perror("can't create memfd \"%s\"", e->name ? e->name : "");
		return -errno;
	}
	if (ftruncate(fd, (off_t)e->size)) {
		pr_perror("can't size memfd \"%s\" to %llu bytes", e->name,
			  (unsigned long long)e->size);
		goto err;
	}
	for (size_t i = 0; i < page_reader_nr_runs(pr); i++) {
		uint64_t len = runs[i].nr_pages * PG;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT))
			continue;
		if (runs[i].vaddr + len > e->size) /* the last page may be partial */
			len = e->size - runs[i].vaddr;
		if (pwrite(fd, data + runs[i].offset, len, (off_t)runs[i].vaddr) != (ssize_t)len) {
			pr_perror("can't fill memfd \"%s\" at %llu", e->name,
				  (unsigned long long)runs[i].vaddr);
			goto err;
		}
	}
	if (e->has_seals && e->seals && fcntl(fd, F_ADD_SEALS, e->seals)) {
		pr_perror("can't seal memfd \"%s\" with %#x", e->name, e->seals);
		goto err;
	}
	return fd;
err:
	close(fd);
	return -errno ? -errno : -EIO;
}

int restore_shmem_prepare(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_shmem; i++) {
		const ShmemEntry *e = c->shmem[i];
		int fd, ret = check_runs(e, c->shmem_pages[i]);

		if (ret)
			return ret;
		fd = e->kind == SHMEM_KIND__SHMEM_MEMFD ? make_memfd(e, c->shmem_pages[i])
							: make_anon(e, c->shmem_pages[i]);
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

int restore_shmem_fd(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->nr_shmem; i++)
		if (c->shmem[i]->id == id && c->shmem_fds[i] >= 0)
			return c->shmem_fds[i];
	pr_err("shmem.img: no shared memory object %u\n", id);
	return -EBADMSG;
}

void restore_shmem_free(struct restore_ctx *c)
{
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
}
