/* dump-shmem: shared memory objects (shared anonymous memory, memfd), and the
 * fds of a task on a memfd (memfd.h).
 *
 * An object is keyed by its device and inode and dumped once, whether it is
 * first met as a VMA (through /proc/PID/map_files) or as an fd (through
 * /proc/PID/fd/N, reopened: a file of our own, so the task's offset never
 * moves). Its pages are found on the object itself with
 * lseek(SEEK_DATA/SEEK_HOLE): a stock kernel reports a swapped-out shmem page
 * in pagemap exactly like a page never touched, so pagemap can't be trusted
 * here; SEEK_DATA sees resident and swapped pages alike, and pages no VMA
 * maps any more. Contents are read with pread into the page writer
 * (pagemap-shmem-ID + pages-shmem-ID); the tail of a last page past the
 * object's size is saved as zeroes.
 * With env CRIU_LITE_SHMEM_PAGEMAP=1 and a kernel with criu-lite's pagemap
 * patch (kerndat KD_SHMEM_PM_SWAP, probed on first use), the pages of an
 * object first met as a VMA are found from the dumped task's pagemap instead:
 * the entries with PM_FILE (present, swapped or cached) in every VMA of the
 * object, VMA addresses turned into object offsets with the VMA's pgoff. That
 * sees only the ranges this task maps, so SEEK_DATA stays the default (and is
 * always used for an object first met as an fd). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define LOG_PREFIX "shmem: "
#include "criu-lite/dump/dump-shmem-chain.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/memfd.h"
#include "images/pages.h"
#include "shmem.pb-c.h"

#define PG	    4096ULL
#define READ_CHUNK  (8ULL << 20)
#define PM_BATCH    512 /* pagemap entries read at once */
#define PAGEMAP_ENV "CRIU_LITE_SHMEM_PAGEMAP"

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

/* What lies past the object's end (the tail of a last page that is only partly inside) reads as
 * zeroes. */
int dump_shmem_read(int fd, void *buf, size_t len, off_t off, uint64_t size)
{
	char *p = buf;

	if ((uint64_t)off + len > size) {
		size_t in = (uint64_t)off < size ? (size_t)(size - (uint64_t)off) : 0;

		memset(p + in, 0, len - in);
		len = in;
	}
	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* 0: it shrank under us */
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Pages [pg, pg + n) at buf into the page writer: present, or left to the parent. */
static int add_pages(struct dump_ctx *c, struct page_writer *pw, ShmemEntry *e, uint64_t pg,
		     uint64_t n, bool in_parent, const void *buf)
{
	struct img_err err = { 0 };

	if (page_writer_add(pw, pg * PG, n,
			    in_parent ? PAGEMAP_FLAGS__PE_PARENT : PAGEMAP_FLAGS__PE_PRESENT,
			    in_parent ? NULL : buf, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	if (in_parent) {
		c->sh->shmem_pages_parent += n;
		return 0;
	}
	e->data_pages += n;
	c->sh->shmem_pages += n;
	return 0;
}

/* Object bytes [data, hole), page aligned, into the page writer: read into a reservation of
 * the writer (no copy) and summed when this round keeps sums and has no parent to compare. */
static int copy_range(struct dump_ctx *c, struct page_writer *pw, int fd, const char *what,
		      ShmemEntry *e, off_t data, off_t hole, struct shmem_chain *sc)
{
	struct img_err err = { 0 };
	int ret = 0;

	for (off_t o = data; o < hole && !ret; o += (off_t)READ_CHUNK) {
		uint64_t len =
		    (uint64_t)(hole - o) < READ_CHUNK ? (uint64_t)(hole - o) : READ_CHUNK;
		char *buf = page_writer_reserve(pw, len / PG, &err);

		if (!buf) {
			pr_err("%s\n", err.msg);
			return -ENOMEM;
		}
		ret = dump_shmem_read(fd, buf, len, o, e->size);
		if (ret) {
			errno = -ret;
			pr_perror("pid %d: read of %s at %lld", c->pid, what, (long long)o);
			break;
		}
		/* against a parent, shmem_chain_scan() summed them already */
		for (uint64_t k = 0; sc->active && !sc->cmp && k < len / PG; k++)
			shmem_chain_page(sc, (uint64_t)o / PG + k, buf + k * PG);
		ret = add_pages(c, pw, e, (uint64_t)o / PG, len / PG, false, buf);
		if (sc->whole)
			c->sh->shmem_pages_whole += len / PG;
	}
	return ret;
}

/* Object bytes [data, hole) against the parent's copy: every page summed and compared
 * (shmem_chain_scan()), then runs of pages the parent holds the same left to it, and the others
 * read again and copied. */
static int write_range(struct dump_ctx *c, struct page_writer *pw, int fd, const char *what,
		       ShmemEntry *e, off_t data, off_t hole, struct shmem_chain *sc)
{
	uint64_t p = (uint64_t)data / PG, end = (uint64_t)hole / PG;
	int ret;

	if (!sc->cmp)
		return copy_range(c, pw, fd, what, e, data, hole, sc);
	ret = shmem_chain_scan(sc, fd, e->size, p, end - p);
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: read of %s at %lld", c->pid, what, (long long)data);
		return ret;
	}
	while (p < end && !ret) {
		bool same = shmem_chain_same(sc, p);
		uint64_t q = p + 1;

		while (q < end && shmem_chain_same(sc, q) == same)
			q++;
		ret = same ? add_pages(c, pw, e, p, q - p, true, NULL)
			   : copy_range(c, pw, fd, what, e, (off_t)(p * PG), (off_t)(q * PG), sc);
		p = q;
	}
	return ret;
}

/* Every data range of the object (SEEK_DATA/SEEK_HOLE), into the page writer. */
static int seek_data_ranges(struct dump_ctx *c, struct page_writer *pw, int fd, const char *what,
			    ShmemEntry *e, struct shmem_chain *sc)
{
	off_t off = 0, end = (off_t)e->size;
	int ret = 0;

	while (off < end && !ret) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break; /* no data after off */
		if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0) {
			pr_perror("pid %d: SEEK_DATA/SEEK_HOLE on %s", c->pid, what);
			return -errno;
		}
		if (hole > end)
			hole = end;
		data &= ~(off_t)(PG - 1);
		hole = (hole + PG - 1) & ~(off_t)(PG - 1);
		ret = write_range(c, pw, fd, what, e, data, hole, sc);
		off = hole;
	}
	return ret;
}

/* Is the pagemap path asked for (env) and usable (kerndat)? The probe runs
 * once per dump; its result is kept in the shared kerndat. */
static bool pagemap_wanted(struct dump_ctx *c)
{
	struct kd_item *it = &c->sh->kd.item[KD_SHMEM_PM_SWAP];
	const char *env = getenv(PAGEMAP_ENV);
	struct kerndat kd;

	if (!env || strcmp(env, "1"))
		return false;
	if (it->status == KD_NOT_PROBED) {
		kerndat_probe(&kd, KD_PROBE_SWAP);
		*it = kd.item[KD_SHMEM_PM_SWAP];
		if (it->status != KD_OK) {
			it->status = KD_MISSING;
			pr_warn(
			    "%s=1, but pagemap does not report swapped shared memory here (%s): "
			    "finding shared memory pages with SEEK_DATA\n",
			    PAGEMAP_ENV, it->detail);
		}
	}
	return it->status == KD_OK;
}

struct pm_scan {
	uint8_t *seen; /* per object page: the task's pagemap shows a page there */
	uint64_t npages, present, swapped, cached;
};

/* The object pages behind VMA v (a mapping of the object) in the task's pagemap. */
static int pagemap_vma(struct dump_ctx *c, int pm, const struct vma *v, struct pm_scan *s)
{
	uint64_t ent[PM_BATCH];

	for (uint64_t a = v->start; a < v->end;) {
		uint64_t left = (v->end - a) / PG;
		size_t nr = left < PM_BATCH ? (size_t)left : PM_BATCH;
		ssize_t n = pread(pm, ent, nr * sizeof(ent[0]), (off_t)(a / PG * sizeof(ent[0])));

		if (n != (ssize_t)(nr * sizeof(ent[0]))) {
			pr_perror("pid %d: reading pagemap at %#llx", c->pid,
				  (unsigned long long)a);
			return n < 0 ? -errno : -EIO;
		}
		for (size_t i = 0; i < nr; i++, a += PG) {
			uint64_t pg = (v->pgoff + (a - v->start)) / PG;

			/* copied-on-write pages of a private mapping lack PM_FILE */
			if (!(ent[i] & PM_FILE) || pg >= s->npages || s->seen[pg])
				continue;
			s->seen[pg] = 1;
			if (ent[i] & PM_PRESENT)
				s->present++;
			else if (ent[i] & PM_SWAP)
				s->swapped++;
			else
				s->cached++;
		}
	}
	return 0;
}

/* Every page that the task's pagemap shows in a VMA of object e, into the page writer. */
static int pagemap_ranges(struct dump_ctx *c, struct page_writer *pw, int fd, const char *what,
			  ShmemEntry *e, struct shmem_chain *sc)
{
	struct pm_scan s = { .npages = (e->size + PG - 1) / PG }; /* a last partial page too */
	char path[64];
	int pm, ret = 0;

	s.seen = calloc(s.npages ? s.npages : 1, 1);
	if (!s.seen)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		ret = -errno;
		pr_perror("pid %d: can't open %s", c->pid, path);
		free(s.seen);
		return ret;
	}
	for (size_t i = 0; i < c->vmas.n && !ret; i++) {
		const struct vma *v = &c->vmas.v[i];

		if (v->dev == e->dev && v->inode == e->ino)
			ret = pagemap_vma(c, pm, v, &s);
	}
	close(pm);
	for (uint64_t p = 0, q; p < s.npages && !ret; p = q) {
		for (q = p; q < s.npages && s.seen[q] == s.seen[p]; q++)
			;
		if (s.seen[p])
			ret = write_range(c, pw, fd, what, e, (off_t)(p * PG), (off_t)(q * PG), sc);
	}
	if (!ret)
		pr_info(
		    "pid %d: shared memory object %u: pages found through pagemap: %llu present, "
		    "%llu swapped, %llu cached\n",
		    c->pid, e->id, (unsigned long long)s.present, (unsigned long long)s.swapped,
		    (unsigned long long)s.cached);
	free(s.seen);
	return ret;
}

/* Every page of the object, into the page writer (and, in a chain, its sums file). */
static int dump_contents(struct dump_ctx *c, int fd, const char *what, ShmemEntry *e, bool via_vma)
{
	struct page_writer *pw;
	struct img_err err = { 0 };
	struct shmem_chain sc;
	int ret = shmem_chain_open(c, e, &sc);

	if (ret) {
		shmem_chain_close(c, e, &sc, false);
		return ret;
	}
	if (page_writer_open_cached(c->sh->dir, IMG_SHMEM_PAGEMAP, e->id, c->sh->bufs, &pw, &err)) {
		pr_err("%s\n", err.msg);
		shmem_chain_close(c, e, &sc, false);
		return -EIO;
	}
	if (via_vma && pagemap_wanted(c))
		ret = pagemap_ranges(c, pw, fd, what, e, &sc);
	else
		ret = seek_data_ranges(c, pw, fd, what, e, &sc);
	if (ret) {
		page_writer_abort(pw);
	} else if (page_writer_commit(pw, &err)) {
		pr_err("%s\n", err.msg);
		ret = -EIO;
	}
	ret = shmem_chain_close(c, e, &sc, !ret) ?: ret;
	if (ret)
		return ret;
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

/* Where an object is reached: a VMA's map_files entry or an fd of the task. */
struct shmem_src {
	const char *what; /* "pid 12 VMA 0x7f00..", "pid 12 fd 3" */
	const char *path; /* opened to read the object: /proc/PID/map_files/.. or /proc/PID/fd/N */
	ShmemKind kind;
	const char *name; /* memfd name (not NUL-terminated), name_len bytes */
	size_t name_len;
	dev_t dev;
	ino_t ino;
	bool via_vma; /* the task maps it (the pagemap path may be used) */
};

/* Name, seals and owner of a memfd, from our file on it. */
static int describe_memfd(const struct shmem_src *s, int fd, const struct stat *st, ShmemEntry *e)
{
	struct statfs sfs;
	int seals;

	if (fstatfs(fd, &sfs)) {
		pr_perror("%s: fstatfs of %s", s->what, s->path);
		return -errno;
	}
	if (sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("%s: memfd \"%.*s\" is hugetlb memory (MFD_HUGETLB): not supported\n",
		       s->what, (int)s->name_len, s->name);
		return -ENOTSUP;
	}
	e->name = strndup(s->name, s->name_len);
	if (!e->name) {
		pr_err("%s: out of memory for the name of its memfd\n", s->what);
		return -ENOMEM;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0) { /* EINVAL: not a sealable file (no MFD_ALLOW_SEALING is F_SEAL_SEAL) */
		e->has_seals = true;
		e->seals = (uint32_t)seals;
	}
	e->has_mode = e->has_uid = e->has_gid = true;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	return 0;
}

/* The object of s: found by device and inode, or dumped now; its id in *id. */
static int object_get(struct dump_ctx *c, const struct shmem_src *s, uint32_t *id)
{
	ShmemEntry *e = find(c->sh->shmem, s->dev, s->ino);
	struct stat st;
	int fd, ret;

	if (e) {
		*id = e->id;
		return 0;
	}
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		pr_perror("%s: can't open its shared memory through %s", s->what, s->path);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("%s: out of memory for its shared memory object\n", s->what);
		close(fd);
		return -ENOMEM;
	}
	shmem_entry__init(e);
	e->id = c->sh->next_shmem_id;
	e->kind = s->kind;
	e->size = (uint64_t)st.st_size;
	e->has_dev = e->has_ino = true;
	e->dev = s->dev;
	e->ino = s->ino;
	ret = s->kind == SHMEM_KIND__SHMEM_MEMFD ? describe_memfd(s, fd, &st, e) : 0;
	if (!ret)
		ret = dump_contents(c, fd, s->path, e, s->via_vma);
	close(fd);
	if (!ret && (ret = add(c, e)))
		pr_err("%s: out of memory for the list of shared memory objects\n", s->what);
	if (ret) {
		free_entry(e);
		return ret;
	}
	c->sh->next_shmem_id++;
	if (e->kind == SHMEM_KIND__SHMEM_MEMFD)
		pr_info("%s: shared memory object %u (memfd \"%s\", %llu bytes, %llu data pages)\n",
			s->what, e->id, e->name, (unsigned long long)e->size,
			(unsigned long long)e->data_pages);
	else
		pr_info("%s: shared memory object %u (anonymous, %llu bytes, %llu data pages)\n",
			s->what, e->id, (unsigned long long)e->size,
			(unsigned long long)e->data_pages);
	*id = e->id;
	return 0;
}

int dump_shmem_vma(struct dump_ctx *c, const struct vma *v, uint32_t *id)
{
	char what[64], path[96];
	struct shmem_src s = {
		.what = what,
		.path = path,
		.kind = vma_is_memfd(v) ? SHMEM_KIND__SHMEM_MEMFD : SHMEM_KIND__SHMEM_ANON,
		.dev = v->dev,
		.ino = v->inode,
		.via_vma = true,
	};

	snprintf(what, sizeof(what), "pid %d VMA %#llx", c->pid, (unsigned long long)v->start);
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", c->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	if (s.kind == SHMEM_KIND__SHMEM_MEMFD) {
		size_t nlen = vma_name_len(v), pl = strlen(MEMFD_LINK_PREFIX);

		/* "/memfd:NAME" */
		s.name = v->name + pl;
		s.name_len = nlen > pl ? nlen - pl : 0;
	}
	return object_get(c, &s, id);
}

int dump_memfd_fd(struct dump_ctx *c, const struct dump_memfd_fd *f, MemfdFileEntry *out)
{
	size_t l = strlen(f->link), pl = strlen(MEMFD_LINK_PREFIX), sl = strlen(MEMFD_LINK_SUFFIX);
	char path[64];
	struct shmem_src s = {
		.what = f->what,
		.path = path,
		.kind = SHMEM_KIND__SHMEM_MEMFD,
		.name = f->link + pl,
		.name_len = l - pl - sl, /* memfd_link() checked both ends */
		.dev = f->st->st_dev,
		.ino = f->st->st_ino,
	};
	uint32_t id;
	int ret;

	/* a file of our own: SEEK_DATA must not move the task's offset */
	if (f->fd >= 0)
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, f->fd);
	else
		s.path = f->via;
	ret = object_get(c, &s, &id);
	if (ret)
		return ret;
	memfd_file_entry__init(out);
	out->shmem_id = id;
	out->flags = f->flags;
	out->pos = f->pos;
	pr_debug("%s: %s: shared memory object %u, flags 0%o, offset %llu\n", f->what, f->link, id,
		 f->flags, (unsigned long long)f->pos);
	return 0;
}

int dump_shmem_commit(struct dump_ctx *c)
{
	struct shmem_list *l = c->sh->shmem;
	const ProtobufCMessage **m;
	struct img_err err = { 0 };
	int ret;

	if (!l || !l->n)
		return 0;
	m = calloc(l->n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		m[i] = &l->v[i]->base;
	ret = img_write_file(c->sh->dir, IMG_SHMEM, 0, m, l->n, &err);
	free(m);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

void dump_shmem_free(struct dump_ctx *c)
{
	shmem_chain_free_shared(c->sh);
	if (!c->sh->shmem)
		return;
	for (size_t i = 0; i < c->sh->shmem->n; i++)
		free_entry(c->sh->shmem->v[i]);
	free(c->sh->shmem->v);
	free(c->sh->shmem);
	c->sh->shmem = NULL;
}
