/* lazy-mm: see lazy-mm.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-pages/lazy-mm.h"

#define NPG(s)	 (((s)->end - (s)->start) / LAZY_PG)
#define WORDS(n) (((n) + 63) / 64)

static bool bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Index of the first span whose end is above addr (n if none). */
static size_t first_after(const struct lazy_mm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(struct lazy_mm *m, size_t more)
{
	if (m->n + more > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct lazy_span *v;

		while (cap < m->n + more)
			cap *= 2;
		v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	return 0;
}

static int insert(struct lazy_mm *m, const struct lazy_span *s)
{
	size_t i;

	if (reserve(m, 1))
		return -ENOMEM;
	i = first_after(m, s->start);
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = *s;
	m->n++;
	m->left += s->left;
	return 0;
}

int lazy_mm_add(struct lazy_mm *m, uint64_t start, uint64_t end)
{
	struct lazy_span s = { .start = start, .end = end, .src = start };
	int ret;

	s.pending = calloc(WORDS(NPG(&s)) + 1, sizeof(uint64_t));
	if (!s.pending)
		return -ENOMEM;
	ret = insert(m, &s);
	if (ret)
		free(s.pending);
	return ret;
}

int lazy_mm_add_shared(struct lazy_mm *m, uint64_t start, uint64_t end, uint32_t obj, uint64_t off)
{
	int ret = lazy_mm_add(m, start, end);

	if (!ret) {
		struct lazy_span *s = &m->v[first_after(m, start)];

		s->shared = true;
		s->obj = obj;
		s->src = off;
	}
	return ret;
}

void lazy_mm_set(struct lazy_mm *m, uint64_t start, uint64_t end)
{
	for (size_t k = first_after(m, start); k < m->n && m->v[k].start < end; k++) {
		struct lazy_span *s = &m->v[k];
		uint64_t a = ((start > s->start ? start : s->start) - s->start) / LAZY_PG;
		uint64_t b = ((end < s->end ? end : s->end) - s->start) / LAZY_PG;

		for (uint64_t i = a; i < b && !s->shared; i++) {
			uint64_t w = 1ULL << (i % 64);

			if (!(s->pending[i / 64] & w)) {
				s->pending[i / 64] |= w;
				s->left++;
				m->left++;
			}
		}
	}
}

uint64_t lazy_mm_clear(struct lazy_mm *m, uint64_t start, uint64_t end)
{
	uint64_t total = 0;

	for (size_t k = first_after(m, start); k < m->n && m->v[k].start < end; k++) {
		struct lazy_span *s = &m->v[k];
		uint64_t a = ((start > s->start ? start : s->start) - s->start) / LAZY_PG;
		uint64_t b = ((end < s->end ? end : s->end) - s->start) / LAZY_PG;
		uint64_t n = 0;

		for (uint64_t i = a; i < b; i++) {
			uint64_t w = 1ULL << (i % 64);

			if (s->pending[i / 64] & w) {
				s->pending[i / 64] &= ~w;
				n++;
			}
		}
		s->left -= n;
		total += n;
	}
	m->left -= total;
	return total;
}

const struct lazy_span *lazy_mm_find(const struct lazy_mm *m, uint64_t addr)
{
	size_t k = first_after(m, addr);

	return k < m->n && m->v[k].start <= addr ? &m->v[k] : NULL;
}

bool lazy_mm_pending(const struct lazy_mm *m, uint64_t addr)
{
	const struct lazy_span *s = lazy_mm_find(m, addr);

	return s && bit(s->pending, (addr - s->start) / LAZY_PG);
}

/* A new span for [a, b) of s (inside it), with its bits and source. */
static int slice(const struct lazy_span *s, uint64_t a, uint64_t b, struct lazy_span *out)
{
	uint64_t off = (a - s->start) / LAZY_PG, n = (b - a) / LAZY_PG;

	*out = (struct lazy_span){ .start = a,
				   .end = b,
				   .src = s->src + (a - s->start),
				   .shared = s->shared,
				   .obj = s->obj };
	out->pending = calloc(WORDS(n) + 1, sizeof(uint64_t));
	if (!out->pending)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		if (bit(s->pending, off + i)) {
			out->pending[i / 64] |= 1ULL << (i % 64);
			out->left++;
		}
	return 0;
}

/* Spans overlapping [start, end), clipped to it, as new spans in *out (with their count). */
static int extract(const struct lazy_mm *m, uint64_t start, uint64_t end, struct lazy_span **out,
		   size_t *n)
{
	size_t k0 = first_after(m, start), k = k0;

	*n = 0;
	*out = NULL;
	while (k < m->n && m->v[k].start < end)
		k++;
	if (k == k0)
		return 0;
	*out = calloc(k - k0, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = k0; i < k; i++) {
		const struct lazy_span *s = &m->v[i];
		int ret = slice(s, start > s->start ? start : s->start, end < s->end ? end : s->end,
				&(*out)[*n]);

		if (ret) {
			while ((*n)--)
				free((*out)[*n].pending);
			free(*out);
			return ret;
		}
		(*n)++;
	}
	return 0;
}

int lazy_mm_cut(struct lazy_mm *m, uint64_t start, uint64_t end)
{
	size_t k0 = first_after(m, start), k1 = k0;
	struct lazy_span lo = { 0 }, hi = { 0 };
	int ret = 0;

	while (k1 < m->n && m->v[k1].start < end)
		k1++;
	if (k0 == k1)
		return 0;
	/* only the first can reach below start, only the last above end */
	if (m->v[k0].start < start)
		ret = slice(&m->v[k0], m->v[k0].start, start, &lo);
	if (!ret && m->v[k1 - 1].end > end)
		ret = slice(&m->v[k1 - 1], end, m->v[k1 - 1].end, &hi);
	if (!ret)
		ret = reserve(m, 2);
	if (ret) {
		free(lo.pending);
		free(hi.pending);
		return ret;
	}
	for (size_t i = k0; i < k1; i++) {
		m->left -= m->v[i].left;
		free(m->v[i].pending);
	}
	memmove(&m->v[k0], &m->v[k1], (m->n - k1) * sizeof(*m->v));
	m->n -= k1 - k0;
	if (lo.pending)
		insert(m, &lo); /* room reserved above */
	if (hi.pending)
		insert(m, &hi);
	return 0;
}

int lazy_mm_move(struct lazy_mm *m, uint64_t from, uint64_t to, uint64_t len)
{
	struct lazy_span *moved;
	size_t n;
	int ret = extract(m, from, from + len, &moved, &n);

	if (!ret)
		ret = lazy_mm_cut(m, from, from + len);
	if (!ret)
		ret = lazy_mm_cut(m, to, to + len);
	if (!ret)
		ret = reserve(m, n);
	for (size_t i = 0; i < n; i++) {
		if (!ret) {
			moved[i].start = moved[i].start - from + to;
			moved[i].end = moved[i].end - from + to;
			ret = insert(m, &moved[i]);
			if (!ret)
				continue;
		}
		free(moved[i].pending);
	}
	free(moved);
	return ret;
}

int lazy_mm_clone(struct lazy_mm *dst, const struct lazy_mm *src)
{
	*dst = (struct lazy_mm){ 0 };
	if (reserve(dst, src->n))
		return -ENOMEM;
	for (size_t i = 0; i < src->n; i++) {
		const struct lazy_span *s = &src->v[i];
		struct lazy_span c = *s;
		size_t bytes = (WORDS(NPG(s)) + 1) * sizeof(uint64_t);

		c.pending = malloc(bytes);
		if (!c.pending) {
			lazy_mm_free(dst);
			return -ENOMEM;
		}
		memcpy(c.pending, s->pending, bytes);
		dst->v[dst->n++] = c;
		dst->left += c.left;
	}
	return 0;
}

/* The first set bit of s at or after page index i, or NPG(s). */
static uint64_t next_set(const struct lazy_span *s, uint64_t i)
{
	uint64_t n = NPG(s);

	while (i < n) {
		uint64_t w = s->pending[i / 64] >> (i % 64);

		if (w)
			return i + (uint64_t)__builtin_ctzll(w) < n
				   ? i + (uint64_t)__builtin_ctzll(w)
				   : n;
		i = (i / 64 + 1) * 64;
	}
	return n;
}

static uint64_t run_len(const struct lazy_span *s, uint64_t i, uint64_t max)
{
	uint64_t n = NPG(s), k = 0;

	while (i + k < n && k < max && bit(s->pending, i + k))
		k++;
	return k;
}

uint64_t lazy_mm_next(const struct lazy_mm *m, uint64_t addr, uint64_t max, uint64_t *at)
{
	if (!m->left)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = pass ? 0 : first_after(m, addr); k < m->n; k++) {
			const struct lazy_span *s = &m->v[k];
			uint64_t i = 0, j;

			if (!s->left)
				continue;
			if (!pass && addr > s->start)
				i = (addr - s->start) / LAZY_PG;
			j = next_set(s, i);
			if (j < NPG(s)) {
				*at = s->start + j * LAZY_PG;
				return run_len(s, j, max);
			}
		}
	}
	return 0;
}

uint64_t lazy_mm_run_at(const struct lazy_mm *m, uint64_t start, uint64_t end)
{
	const struct lazy_span *s = lazy_mm_find(m, start);
	uint64_t lim;

	if (!s)
		return 0;
	lim = ((end < s->end ? end : s->end) - start) / LAZY_PG;
	return run_len(s, (start - s->start) / LAZY_PG, lim);
}

void lazy_mm_free(struct lazy_mm *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].pending);
	free(m->v);
	*m = (struct lazy_mm){ 0 };
}
