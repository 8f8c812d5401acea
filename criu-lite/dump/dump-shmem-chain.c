/* dump-shmem-chain: see dump-shmem-chain.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "shmem: "
#include "criu-lite/dump/dump-shmem-chain.h"
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "images/pages.h"
#include "images/thread.h"

#define PG	    4096ULL
#define SUMS_RECORD 65536	   /* pages per shmem_sums record */
#define SCAN_CHUNK  (256ULL << 10) /* read and summed at once: stays in L2 */
#define SCAN_SHARE  (16ULL << 20)  /* a thread for every this much, up to SHMEM_SCAN_THREADS */

/* The parent set's shmem.img, read once per dump. */
struct shmem_parent_list {
	bool read;
	ShmemEntry **v;
	size_t n;
};

static int read_parent_list(struct dump_shared *sh, struct img_dir *pd)
{
	struct shmem_parent_list *l = sh->shmem_parent;
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	int ret;

	if (!l && !(l = sh->shmem_parent = calloc(1, sizeof(*l))))
		return -ENOMEM;
	if (l->read)
		return 0;
	l->read = true;
	if (faccessat(img_dir_fd(pd), "shmem.img", F_OK, 0))
		return 0; /* no shared memory in the parent */
	if ((ret = img_reader_open(pd, IMG_SHMEM, 0, &r, &err)))
		goto fail;
	while ((ret = img_read(r, &m, &err)) == 1) {
		ShmemEntry **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

		if (!nv) {
			protobuf_c_message_free_unpacked(m, NULL);
			img_reader_close(r);
			return -ENOMEM;
		}
		l->v = nv;
		l->v[l->n++] = (ShmemEntry *)m;
	}
	img_reader_close(r);
	if (!ret)
		return 0;
fail:
	pr_err("parent images: %s\n", err.msg);
	return ret;
}

static const ShmemEntry *parent_object(const struct dump_shared *sh, const ShmemEntry *e)
{
	const struct shmem_parent_list *l = sh->shmem_parent;

	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i]->kind == e->kind && l->v[i]->has_dev && l->v[i]->has_ino &&
		    l->v[i]->dev == e->dev && l->v[i]->ino == e->ino)
			return l->v[i];
	return NULL;
}

static void set_bit(uint64_t *b, uint64_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}

static bool test_bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Which pages the parent holds (present, or left to its own parent). */
static int read_held(struct img_dir *pd, struct shmem_chain *sc)
{
	const uint32_t held = PAGEMAP_FLAGS__PE_PRESENT | PAGEMAP_FLAGS__PE_PARENT;
	struct page_reader *r = NULL;
	struct img_err err = { 0 };
	const struct page_run *runs;
	int ret = page_reader_open_meta(pd, IMG_SHMEM_PAGEMAP, sc->parent_id, &r, &err);

	if (ret) {
		pr_err("parent images: %s\n", err.msg);
		return ret < 0 ? ret : -EIO;
	}
	runs = page_reader_runs(r);
	for (size_t i = 0; i < page_reader_nr_runs(r); i++) {
		uint64_t p = runs[i].vaddr / PG, end = p + runs[i].nr_pages;

		if (!(runs[i].flags & held))
			continue;
		if (end > sc->parent_npages) {
			pr_err("parent images: pagemap-shmem-%u.img has pages beyond its object\n",
			       sc->parent_id);
			page_reader_close(r);
			return -EBADMSG;
		}
		for (; p < end; p++)
			set_bit(sc->parent_held, p);
	}
	page_reader_close(r);
	return 0;
}

/* The parent's sums of the object; a page it holds without one is not trusted (held cleared). */
static int read_sums(struct img_dir *pd, struct shmem_chain *sc)
{
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	uint64_t next = 0;
	int ret = img_reader_open(pd, IMG_SHMEM_SUMS, sc->parent_id, &r, &err);

	if (ret == -ENOENT) { /* a parent made before sums were kept: it can't be compared with */
		pr_info("parent images: no sums of shared memory object %u: copied whole\n",
			sc->parent_id);
		memset(sc->parent_held, 0, (sc->parent_npages / 64 + 1) * sizeof(uint64_t));
		return 0;
	}
	if (ret) {
		pr_err("parent images: %s\n", err.msg);
		return ret;
	}
	while ((ret = img_read(r, &m, &err)) == 1) {
		ShmemSums *s = (ShmemSums *)m;

		if (s->first_page != next || s->n_sum > sc->parent_npages - next) {
			ret = img_fail(&err, EBADMSG,
				       "shmem-sums-%u.img: record at page %llu, %zu sums: out of "
				       "order or beyond the object's %llu pages",
				       sc->parent_id, (unsigned long long)s->first_page, s->n_sum,
				       (unsigned long long)sc->parent_npages);
			protobuf_c_message_free_unpacked(m, NULL);
			break;
		}
		memcpy(sc->parent_sums + next, s->sum, s->n_sum * sizeof(uint64_t));
		next += s->n_sum;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_reader_close(r);
	if (ret) {
		pr_err("parent images: %s\n", err.msg);
		return ret < 0 ? ret : -EBADMSG;
	}
	for (uint64_t p = next; p < sc->parent_npages; p++)
		sc->parent_held[p / 64] &= ~(1ULL << (p % 64));
	return 0;
}

int shmem_chain_open(struct dump_ctx *c, const ShmemEntry *e, struct shmem_chain *sc)
{
	struct img_dir *pd = dump_track_parent_dir(c->sh);
	const ShmemEntry *pe;
	int ret;

	*sc = (struct shmem_chain){ .npages = (e->size + PG - 1) / PG };
	if (dump_track_keeps(c->sh)) {
		sc->sums = calloc(sc->npages + 1, sizeof(*sc->sums));
		if (!sc->sums)
			return -ENOMEM;
		sc->active = true;
	}
	if (!pd)
		return 0;
	if ((ret = read_parent_list(c->sh, pd)))
		return ret;
	pe = parent_object(c->sh, e);
	if (!pe) {
		pr_info("shared memory object %u: not in the parent images: copied whole\n", e->id);
		sc->whole = true;
		return 0;
	}
	sc->parent_id = pe->id;
	sc->parent_npages = (pe->size + PG - 1) / PG;
	sc->parent_sums = calloc(sc->parent_npages + 1, sizeof(*sc->parent_sums));
	sc->parent_held = calloc(sc->parent_npages / 64 + 1, sizeof(uint64_t));
	sc->same = calloc(sc->npages / 64 + 1, sizeof(uint64_t));
	if (!sc->parent_sums || !sc->parent_held || !sc->same)
		return -ENOMEM;
	if ((ret = read_held(pd, sc)) || (ret = read_sums(pd, sc)))
		return ret;
	sc->active = sc->cmp = true;
	pr_debug("shared memory object %u: compared with object %u of the parent images\n", e->id,
		 pe->id);
	return 0;
}

bool shmem_chain_page(struct shmem_chain *sc, uint64_t pg, const void *data)
{
	uint64_t sum = img_crc64(data, PG);

	if (sc->sums && pg < sc->npages)
		sc->sums[pg] = sum;
	return sc->cmp && pg < sc->parent_npages && test_bit(sc->parent_held, pg) &&
	       sc->parent_sums[pg] == sum;
}

struct scan_part {
	struct shmem_chain *sc;
	int fd;
	uint64_t size, pg, n; /* pages [pg, pg + n) */
	int ret;
};

/* One thread's share: read, sum and compare; the bits of same it sets are its own words
 * (shares start on multiples of 64 pages). */
static void *scan_part(void *arg)
{
	struct scan_part *p = arg;
	char *buf = malloc(SCAN_CHUNK);

	if (!buf) {
		p->ret = -ENOMEM;
		return NULL;
	}
	for (uint64_t done = 0; done < p->n && !p->ret;) {
		uint64_t k = p->n - done < SCAN_CHUNK / PG ? p->n - done : SCAN_CHUNK / PG;
		uint64_t pg = p->pg + done;

		p->ret = dump_shmem_read(p->fd, buf, k * PG, (off_t)(pg * PG), p->size);
		for (uint64_t i = 0; i < k && !p->ret; i++)
			if (shmem_chain_page(p->sc, pg + i, buf + i * PG))
				set_bit(p->sc->same, pg + i);
		done += k;
	}
	free(buf);
	return NULL;
}

int shmem_chain_scan(struct shmem_chain *sc, int fd, uint64_t size, uint64_t pg, uint64_t n)
{
	struct scan_part part[SHMEM_SCAN_THREADS];
	pthread_t tid[SHMEM_SCAN_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t nt = n * PG / SCAN_SHARE + 1, at = pg, end = pg + n;
	int started = 0, ret = 0;

	if (nt > SHMEM_SCAN_THREADS)
		nt = SHMEM_SCAN_THREADS;
	if (cpus > 0 && nt > (uint64_t)cpus)
		nt = (uint64_t)cpus;
	for (uint64_t t = 0; t < nt; t++) {
		/* the last share ends at end; the others on a multiple of 64 pages */
		uint64_t e = t + 1 == nt ? end : ((pg + n * (t + 1) / nt) & ~63ULL);

		if (e < at)
			e = at;
		part[t] = (struct scan_part){ sc, fd, size, at, e - at, 0 };
		at = e;
	}
	for (uint64_t t = 1; t < nt; t++) {
		if (thread_start_quiet(&tid[t], NULL, scan_part, &part[t]))
			break; /* the rest in this thread */
		started++;
	}
	for (uint64_t t = (uint64_t)started + 1; t < nt; t++)
		scan_part(&part[t]);
	scan_part(&part[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	for (uint64_t t = 0; t < nt && !ret; t++)
		ret = part[t].ret;
	return ret;
}

bool shmem_chain_same(const struct shmem_chain *sc, uint64_t pg)
{
	return pg < sc->npages && test_bit(sc->same, pg);
}

static int write_sums(struct dump_ctx *c, const ShmemEntry *e, const struct shmem_chain *sc)
{
	uint64_t nrec = (sc->npages + SUMS_RECORD - 1) / SUMS_RECORD;
	ShmemSums *recs = calloc(nrec + 1, sizeof(*recs));
	const ProtobufCMessage **m = calloc(nrec + 1, sizeof(*m));
	struct img_err err = { 0 };
	int ret = 0;

	if (!recs || !m) {
		free(recs);
		free(m);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < nrec; i++) {
		uint64_t first = i * SUMS_RECORD, left = sc->npages - first;

		shmem_sums__init(&recs[i]);
		recs[i].first_page = first;
		recs[i].n_sum = left < SUMS_RECORD ? left : SUMS_RECORD;
		recs[i].sum = sc->sums + first;
		m[i] = &recs[i].base;
	}
	if (img_write_file(c->sh->dir, IMG_SHMEM_SUMS, e->id, m, nrec, &err)) {
		pr_err("%s\n", err.msg);
		ret = -EIO;
	}
	free(recs);
	free(m);
	return ret;
}

int shmem_chain_close(struct dump_ctx *c, const ShmemEntry *e, struct shmem_chain *sc, bool ok)
{
	int ret = 0;

	if (ok && sc->sums)
		ret = write_sums(c, e, sc);
	free(sc->sums);
	free(sc->parent_sums);
	free(sc->parent_held);
	free(sc->same);
	*sc = (struct shmem_chain){ 0 };
	return ret;
}

void shmem_chain_free_shared(struct dump_shared *sh)
{
	struct shmem_parent_list *l = sh->shmem_parent;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		shmem_entry__free_unpacked(l->v[i], NULL);
	free(l->v);
	free(l);
	sh->shmem_parent = NULL;
}
