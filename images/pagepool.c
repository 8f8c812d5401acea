/* pagepool: see pagepool.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "images/pagepool.h"
#include "images/thread.h"

#define NBUF	    4 /* the one being filled, and up to three queued or in flight */
#define MAX_THREADS 4

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_WRITING };

struct slot {
	uint8_t *buf;
	size_t cap;
	size_t len;
	off_t off;
	enum slot_state state;
	unsigned long seq; /* submission order: writes go out oldest first */
};

#define CACHED 8

struct pw_bufs {
	struct {
		uint8_t *buf;
		size_t cap;
	} v[CACHED];
	int n;
};

struct pw_pool {
	pw_write_fn fn;
	void *arg;
	struct pw_bufs *cache;
	size_t bufsize;
	unsigned int nthreads, started;
	pthread_t thr[MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t work; /* a slot was queued, or stop */
	pthread_cond_t done; /* a slot was written */
	struct slot slots[NBUF];
	int cur; /* the slot being filled, -1: none */
	unsigned long next_seq;
	int err;
	struct img_err first; /* the message of err */
	bool stop;
};

/* Keep the first failure (under p->lock). */
static void failed(struct pw_pool *p, int ret, const struct img_err *e)
{
	if (ret && !p->err) {
		p->err = ret;
		p->first = *e;
	}
}

static struct slot *oldest_queued(struct pw_pool *p)
{
	struct slot *best = NULL;

	for (int i = 0; i < NBUF; i++)
		if (p->slots[i].state == SLOT_QUEUED && (!best || p->slots[i].seq < best->seq))
			best = &p->slots[i];
	return best;
}

static void *writer(void *arg)
{
	struct pw_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct img_err e = { 0 };
		struct slot *s = NULL;
		int ret;

		while (!p->stop && !(s = oldest_queued(p)))
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop && !(s = oldest_queued(p)))
			break;
		s->state = SLOT_WRITING;
		pthread_mutex_unlock(&p->lock);
		ret = p->err ? 0 : p->fn(p->arg, s->buf, s->len, (uint64_t)s->off, &e);
		pthread_mutex_lock(&p->lock);
		failed(p, ret, &e);
		s->state = SLOT_FREE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pw_bufs *pw_bufs_new(void)
{
	return calloc(1, sizeof(struct pw_bufs));
}

void pw_bufs_free(struct pw_bufs *b)
{
	for (int i = 0; b && i < b->n; i++)
		munmap(b->v[i].buf, b->v[i].cap);
	free(b);
}

/* A cached buffer of at least want bytes, or NULL. */
static uint8_t *from_cache(struct pw_bufs *b, size_t want, size_t *cap)
{
	for (int i = 0; b && i < b->n; i++)
		if (b->v[i].cap >= want) {
			uint8_t *buf = b->v[i].buf;

			*cap = b->v[i].cap;
			b->v[i] = b->v[--b->n];
			return buf;
		}
	return NULL;
}

static void to_cache(struct pw_bufs *b, uint8_t *buf, size_t cap)
{
	if (b && b->n < CACHED) {
		b->v[b->n].buf = buf;
		b->v[b->n++].cap = cap;
	} else {
		munmap(buf, cap);
	}
}

int pw_pool_open(struct pw_pool **out, pw_write_fn fn, void *arg, unsigned int threads,
		 size_t bufsize, struct pw_bufs *cache)
{
	struct pw_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->cache = cache;
	p->bufsize = bufsize;
	p->nthreads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	p->cur = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	*out = p;
	return 0;
}

/* Threads start with the first submission: an image that fits one buffer needs none. */
static void start_threads(struct pw_pool *p)
{
	while (p->started < p->nthreads &&
	       thread_start_quiet(&p->thr[p->started], NULL, writer, p) == 0)
		p->started++;
}

uint8_t *pw_pool_buf(struct pw_pool *p, size_t need, size_t *cap, int *err)
{
	size_t want = need > p->bufsize ? need : p->bufsize;
	struct slot *s = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->cur >= 0) {
		s = &p->slots[p->cur];
	} else {
		for (;;) {
			for (int i = 0; i < NBUF && !s; i++)
				if (p->slots[i].state == SLOT_FREE) {
					s = &p->slots[i];
					p->cur = i;
				}
			if (s)
				break;
			pthread_cond_wait(&p->done, &p->lock);
		}
		s->state = SLOT_FILLING;
	}
	pthread_mutex_unlock(&p->lock);
	if (s->cap < want) {
		size_t ncap = want;
		void *nb = from_cache(p->cache, want, &ncap);

		if (!nb)
			nb = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				  -1, 0);
		if (nb == MAP_FAILED) {
			*err = -ENOMEM;
			return NULL;
		}
		if (s->buf)
			to_cache(p->cache, s->buf, s->cap);
		s->buf = nb;
		s->cap = ncap;
	}
	*cap = s->cap;
	return s->buf;
}

int pw_pool_submit(struct pw_pool *p, size_t len, off_t off)
{
	struct slot *s;
	int err;

	if (p->cur < 0 || !len)
		return 0;
	pthread_mutex_lock(&p->lock);
	s = &p->slots[p->cur];
	s->len = len;
	s->off = off;
	s->seq = p->next_seq++;
	s->state = SLOT_QUEUED;
	p->cur = -1;
	err = p->err;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	if (p->started < p->nthreads)
		start_threads(p);
	if (!p->started) {
		/* no thread could start: write it here */
		struct img_err e = { 0 };

		pthread_mutex_lock(&p->lock);
		s->state = SLOT_WRITING;
		pthread_mutex_unlock(&p->lock);
		err = err ? err : p->fn(p->arg, s->buf, s->len, (uint64_t)s->off, &e);
		pthread_mutex_lock(&p->lock);
		s->state = SLOT_FREE;
		failed(p, err, &e);
		pthread_mutex_unlock(&p->lock);
	}
	return err;
}

int pw_pool_write_now(struct pw_pool *p, const void *data, size_t len, off_t off)
{
	struct img_err e = { 0 };
	int ret = p->fn(p->arg, data, len, (uint64_t)off, &e);

	pthread_mutex_lock(&p->lock);
	failed(p, ret, &e);
	ret = p->err;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

const char *pw_pool_error(struct pw_pool *p)
{
	const char *m;

	pthread_mutex_lock(&p->lock);
	m = p->first.msg;
	pthread_mutex_unlock(&p->lock);
	return m;
}

int pw_pool_drain(struct pw_pool *p)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		bool busy = false;

		for (int i = 0; i < NBUF; i++)
			busy |=
			    p->slots[i].state == SLOT_QUEUED || p->slots[i].state == SLOT_WRITING;
		if (!busy)
			break;
		pthread_cond_wait(&p->done, &p->lock);
	}
	ret = p->err;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void pw_pool_close(struct pw_pool *p)
{
	if (!p)
		return;
	pw_pool_drain(p);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->started; i++)
		pthread_join(p->thr[i], NULL);
	for (int i = 0; i < NBUF; i++)
		if (p->slots[i].buf)
			to_cache(p->cache, p->slots[i].buf, p->slots[i].cap);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}
