/* pagefill: see pagefill.h. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/log.h"
#include "criu-lite/restore/pagefill.h"
#include "images/thread.h"

#define PG	 4096ULL
#define MAX_IOVS 1024 /* IOV_MAX */

/* One process_vm_writev: pieces [first, first + nr), back to back in the pages file. */
struct batch {
	size_t first, nr;
	uint64_t off, bytes; /* in the pages file */
};

/* A piece: a remote range and where its bytes are in the pages file. */
struct piece {
	uint64_t addr, len, off;
	bool direct; /* inside a range written through /proc/PID/mem */
};

struct fill {
	pid_t pid;
	const char *data;
	struct iovec *iov;    /* remote ranges of the process_vm_writev pieces */
	struct piece *pieces; /* every piece, each at most PAGEFILL_CHUNK */
	size_t nr_pieces;
	struct batch *batches;
	size_t nr_batches;
	size_t next; /* the next batch to take (under lock) */
	int err;
	pthread_mutex_t lock;
};

static int add_piece(struct fill *f, size_t *cap, struct piece p)
{
	if (f->nr_pieces == *cap) {
		struct piece *n = realloc(f->pieces, (*cap *= 2) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->pieces = n;
	}
	f->pieces[f->nr_pieces++] = p;
	return 0;
}

/* Cut the present runs into pieces (at PAGEFILL_CHUNK and at the edges of the direct ranges),
 * and group the other pieces, where they follow each other in the pages file, into batches. */
static int plan(struct fill *f, const struct page_reader *pr, const struct pagefill_direct *d,
		const struct pagefill_direct *skip)
{
	const struct page_run *runs = page_reader_runs(pr);
	size_t n = page_reader_nr_runs(pr), cap = n + 16, k = 0, ks = 0, nb = 0;

	f->pieces = malloc(cap * sizeof(*f->pieces));
	if (!f->pieces)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = runs[i].vaddr, end = a + runs[i].nr_pages * PG, off = runs[i].offset;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT))
			continue;
		while (a < end) {
			uint64_t lim = end - a < PAGEFILL_CHUNK ? end : a + PAGEFILL_CHUNK;
			bool direct = false;

			while (skip && ks < skip->n && skip->range[ks][1] <= a)
				ks++;
			if (skip && ks < skip->n && skip->range[ks][0] <= a) {
				uint64_t to = skip->range[ks][1] < end ? skip->range[ks][1] : end;

				off += to - a;
				a = to;
				continue;
			}
			if (skip && ks < skip->n && skip->range[ks][0] < lim)
				lim = skip->range[ks][0];
			while (d && k < d->n && d->range[k][1] <= a)
				k++;
			if (d && k < d->n && d->range[k][0] <= a) {
				direct = true;
				lim = lim < d->range[k][1] ? lim : d->range[k][1];
			} else if (d && k < d->n && d->range[k][0] < lim) {
				lim = d->range[k][0];
			}
			if (add_piece(f, &cap, (struct piece){ a, lim - a, off, direct }))
				return -ENOMEM;
			off += lim - a;
			a = lim;
		}
	}
	f->iov = malloc((f->nr_pieces + 1) * sizeof(*f->iov));
	f->batches = calloc(f->nr_pieces + 1, sizeof(*f->batches));
	if (!f->iov || !f->batches)
		return -ENOMEM;
	for (size_t i = 0; i < f->nr_pieces; i++) {
		const struct piece *p = &f->pieces[i];
		struct batch *b = f->nr_batches ? &f->batches[f->nr_batches - 1] : NULL;

		if (p->direct)
			continue;
		if (!b || b->nr == MAX_IOVS || b->bytes + p->len > PAGEFILL_CHUNK ||
		    b->off + b->bytes != p->off) {
			b = &f->batches[f->nr_batches++];
			*b = (struct batch){ .first = nb, .off = p->off };
		}
		f->iov[nb++] = (struct iovec){ (void *)(uintptr_t)p->addr, p->len };
		b->nr++;
		b->bytes += p->len;
	}
	return 0;
}

/* The pieces inside direct ranges: through /proc/PID/mem, which writes past the protection of
 * a read-only or PROT_NONE private VMA (a copy-on-write of it) as ptrace may. */
static int fill_direct(struct fill *f)
{
	char path[64];
	int fd = -1, ret = 0;

	for (size_t i = 0; i < f->nr_pieces && !ret; i++) {
		const struct piece *p = &f->pieces[i];
		ssize_t w;

		if (!p->direct)
			continue;
		if (fd < 0) {
			snprintf(path, sizeof(path), "/proc/%d/mem", f->pid);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				pr_perror("can't open %s", path);
				return -errno;
			}
		}
		w = pwrite(fd, f->data + p->off, p->len, (off_t)p->addr);
		if (w != (ssize_t)p->len) {
			pr_perror("pid %d: write of %llu bytes at %#llx through %s: %zd", f->pid,
				  (unsigned long long)p->len, (unsigned long long)p->addr, path, w);
			ret = w < 0 ? -errno : -EIO;
		}
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static void *worker(void *arg)
{
	struct fill *f = arg;

	for (;;) {
		struct batch *b;
		ssize_t w;

		pthread_mutex_lock(&f->lock);
		b = !f->err && f->next < f->nr_batches ? &f->batches[f->next++] : NULL;
		pthread_mutex_unlock(&f->lock);
		if (!b)
			return NULL;
		struct iovec local = { (void *)(f->data + b->off), b->bytes };

		w = process_vm_writev(f->pid, &local, 1, &f->iov[b->first], b->nr, 0);
		if (w != (ssize_t)b->bytes) {
			int e = w < 0 ? errno : EIO;

			pr_perror("pid %d: process_vm_writev of %zu runs at %p: %zd of %llu bytes",
				  f->pid, b->nr, f->iov[b->first].iov_base, w,
				  (unsigned long long)b->bytes);
			pthread_mutex_lock(&f->lock);
			if (!f->err)
				f->err = -e;
			pthread_mutex_unlock(&f->lock);
			return NULL;
		}
	}
}

int pagefill(pid_t pid, struct page_reader *pr, unsigned int threads,
	     const struct pagefill_direct *direct, const struct pagefill_direct *skip)
{
	struct fill f = { .pid = pid, .data = page_reader_data(pr) };
	pthread_t tid[8];
	unsigned int started = 0;
	int ret;

	pthread_mutex_init(&f.lock, NULL);
	ret = plan(&f, pr, direct, skip);
	if (ret) {
		pr_err("pid %d: out of memory planning the copy of its pages\n", pid);
		goto out;
	}
	for (size_t i = 0; i < f.nr_pieces && !ret; i++) {
		struct img_err err = { 0 };

		ret = page_reader_verify(pr, f.pieces[i].off, f.pieces[i].len, &err);
		if (ret)
			pr_err("pid %d: %s\n", pid, err.msg);
	}
	if (ret)
		goto out;
	if (threads > 8)
		threads = 8;
	/* a small image is not worth a thread */
	for (; started + 1 < threads && started + 1 < f.nr_batches; started++)
		if (thread_start_quiet(&tid[started], NULL, worker, &f))
			break;
	worker(&f);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	ret = f.err;
	if (!ret)
		ret = fill_direct(&f);
out:
	pthread_mutex_destroy(&f.lock);
	free(f.pieces);
	free(f.iov);
	free(f.batches);
	return ret;
}
