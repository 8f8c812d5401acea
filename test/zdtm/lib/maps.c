/* maps: /proc/self/maps in a form a faithful restore can reproduce, and the
 * comparison of two of them.
 *
 * The kernel merges or keeps apart neighbouring VMAs by state maps does not
 * show (anon_vma, VM_ACCOUNT), so one layout may be listed as one line or
 * two. Entries that touch and differ in nothing maps shows (same perms,
 * device, inode and path; file offsets that continue) are merged. The inode
 * is kept only for mappings of files that still have a name: a shared
 * anonymous mapping, a memfd or a deleted file is a new object after a
 * restore. test_maps_line() finds one line of maps as the kernel shows it.
 * test_read_vmflags() is the same text made from smaps, with each mapping's
 * VmFlags appended: neighbours merge only when their flags are equal too.
 * test_heap_steady() keeps the heap's VMA still for tests that compare it. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zdtmtst.h"

#define MAX_REPORT 8

struct ent {
	unsigned long s, e, ino;
	unsigned long long off;
	char perms[8], dev[16];
	const char *path;  /* into the text read */
	const char *flags; /* VmFlags (smaps), "" for maps */
};

static int parse(char *line, struct ent *m)
{
	int n = 0;

	if (sscanf(line, "%lx-%lx %7s %llx %15s %lu %n", &m->s, &m->e, m->perms, &m->off, m->dev,
		   &m->ino, &n) != 6 ||
	    !n)
		return -1;
	m->path = line + n;
	m->flags = "";
	return 0;
}

static int named_file(const struct ent *m)
{
	return m->path[0] == '/' && !strstr(m->path, " (deleted)");
}

/* Would the kernel be free to show a and b (b right after a) as one VMA? */
static int mergeable(const struct ent *a, const struct ent *b)
{
	int file = a->ino != 0;

	return a->e == b->s && !strcmp(a->perms, b->perms) && !strcmp(a->dev, b->dev) &&
	       a->ino == b->ino && !strcmp(a->path, b->path) && !strcmp(a->flags, b->flags) &&
	       (file ? a->off + (a->e - a->s) == b->off : a->off == b->off);
}

static void put(FILE *f, const struct ent *m)
{
	fprintf(f, "%lx-%lx %s %08llx %s %lu %s%s%s\n", m->s, m->e, m->perms, m->off, m->dev,
		named_file(m) ? m->ino : 0, m->path, *m->flags ? " VmFlags: " : "", m->flags);
}

/* The entries of maps, or of smaps (a VmFlags line completes the entry before it), merged. */
static char *read_merged(const char *path, size_t *len)
{
	size_t n, nr = 0, cap = 0;
	char *raw = test_read_file(path, &n), *line, *save, *out = NULL;
	struct ent *v = NULL, *grown;
	FILE *f = NULL;

	if (!raw)
		return NULL;
	for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "VmFlags:", 8)) {
			if (nr)
				v[nr - 1].flags = line + 8 + strspn(line + 8, " ");
			continue;
		}
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				goto out;
			v = grown;
		}
		if (!parse(line, &v[nr]))
			nr++; /* else another smaps line, or not a maps line: nothing to compare */
	}
	f = open_memstream(&out, len);
	if (!f)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		struct ent cur = v[i];

		while (i + 1 < nr && mergeable(&cur, &v[i + 1]))
			cur.e = v[++i].e;
		put(f, &cur);
	}
	if (fclose(f)) {
		free(out);
		out = NULL;
	}
out:
	free(v);
	free(raw);
	return out;
}

char *test_read_maps(size_t *len)
{
	return read_merged("/proc/self/maps", len);
}

char *test_read_vmflags(size_t *len)
{
	return read_merged("/proc/self/smaps", len);
}

static int has_line(const char *text, const char *line, size_t len)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n == len && !memcmp(p, line, len))
			return 1;
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

/* Report the lines of a that b lacks as "what: tag 'line'"; count them in *bad. */
static void missing(const char *what, const char *tag, const char *a, const char *b, int *bad)
{
	for (const char *l = a; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (!has_line(b, l, len) && (*bad)++ < MAX_REPORT)
			fail("%s: %s '%.*s'", what, tag, (int)len, l);
		l += len + (nl ? 1 : 0);
	}
}

int test_maps_same(const char *what, const char *before, const char *after)
{
	int bad = 0;

	missing(what, "only before:", before, after, &bad);
	missing(what, "only after: ", after, before, &bad);
	if (bad > MAX_REPORT)
		fail("%s: %d mappings differ in all", what, bad);
	return bad ? -1 : 0;
}

int test_maps_line(const char *s, char *out, size_t len)
{
	size_t n;
	char *maps = test_read_file("/proc/self/maps", &n), *line, *save;
	int ret = -1;

	if (!maps)
		return -1;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, s)) {
			snprintf(out, len, "%s", line);
			ret = 0;
			break;
		}
	}
	free(maps);
	return ret;
}

void test_heap_steady(void)
{
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	free(malloc(1));
}
