/* pagefill: see pagefill.h. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/uio.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/log.h"
#include "criu-lite/restore/pagefill.h"

#define PG	 4096ULL
#define MAX_IOVS 1024 /* IOV_MAX */

/* One process_vm_writev: runs [first, first + nr) of the piece list. */
struct batch {
	size_t first, nr;
	uint64_t off, bytes; /* in the pages file: pieces are back to back there */
};

struct fill {
	pid_t pid;
	const char *data;
	struct iovec *pieces; /* remote ranges, each at most PAGEFILL_CHUNK */
	struct batch *batches;
	size_t nr_batches;
	size_t next; /* the next batch to take (under lock) */
	int err;
	pthread_mutex_t lock;
};

/* Cut the present runs into pieces, and group pieces into batches. */
static int plan(struct fill *f, const struct page_reader *pr, size_t *nr_pieces)
{
	const struct page_run *runs = page_reader_runs(pr);
	size_t n = page_reader_nr_runs(pr), np = 0, cap = n + 16;
	uint64_t off = 0;

	f->pieces = malloc(cap * sizeof(*f->pieces));
	if (!f->pieces)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = runs[i].vaddr, end = a + runs[i].nr_pages * PG;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT))
			continue;
		for (; a < end; a += PAGEFILL_CHUNK) {
			uint64_t len = end - a < PAGEFILL_CHUNK ? end - a : PAGEFILL_CHUNK;

			if (np == cap) {
				struct iovec *p = realloc(f->pieces, (cap *= 2) * sizeof(*p));

				if (!p)
					return -ENOMEM;
				f->pieces = p;
			}
			f->pieces[np++] = (struct iovec){ (void *)(uintptr_t)a, len };
		}
	}
	f->batches = calloc(np + 1, sizeof(*f->batches));
	if (!f->batches)
		return -ENOMEM;
	for (size_t i = 0; i < np;) {
		struct batch *b = &f->batches[f->nr_batches++];

		b->first = i;
		b->off = off;
		for (; i < np && b->nr < MAX_IOVS &&
		       b->bytes + f->pieces[i].iov_len <= PAGEFILL_CHUNK;
		     i++, b->nr++)
			b->bytes += f->pieces[i].iov_len;
		off += b->bytes;
	}
	*nr_pieces = np;
	return 0;
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

		w = process_vm_writev(f->pid, &local, 1, &f->pieces[b->first], b->nr, 0);
		if (w != (ssize_t)b->bytes) {
			int e = w < 0 ? errno : EIO;

			pr_perror("pid %d: process_vm_writev of %zu runs at %p: %zd of %llu bytes",
				  f->pid, b->nr, f->pieces[b->first].iov_base, w,
				  (unsigned long long)b->bytes);
			pthread_mutex_lock(&f->lock);
			if (!f->err)
				f->err = -e;
			pthread_mutex_unlock(&f->lock);
			return NULL;
		}
	}
}

int pagefill(pid_t pid, const struct page_reader *pr, unsigned int threads)
{
	struct fill f = { .pid = pid, .data = page_reader_data(pr) };
	pthread_t tid[8];
	unsigned int started = 0;
	size_t np = 0;
	int ret;

	pthread_mutex_init(&f.lock, NULL);
	ret = plan(&f, pr, &np);
	if (ret) {
		pr_err("pid %d: out of memory planning the copy of its pages\n", pid);
		goto out;
	}
	if (threads > 8)
		threads = 8;
	/* a small image is not worth a thread */
	for (; started + 1 < threads && started + 1 < f.nr_batches; started++)
		if (pthread_create(&tid[started], NULL, worker, &f))
			break;
	worker(&f);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	ret = f.err;
out:
	pthread_mutex_destroy(&f.lock);
	free(f.pieces);
	free(f.batches);
	return ret;
}
