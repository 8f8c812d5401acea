/* test_lazy_mm: the pending-page bookkeeping of lazy-pages (lazy-pages/lazy-mm.h) against a
 * model: an array of pages over a 1024-page window, each absent (no span) or in a span with the
 * image address it comes from and a pending bit.
 *
 * - ops: 20000 random operations (add a span where none is, of private memory or of a shared
 *   object, set, clear, cut, move, clone), and after each one every page's span, source (image
 *   address or object offset), object and pending bit, the total left, lazy_mm_next() from a
 *   random address and lazy_mm_run_at() agree with the model (a shared span never has a
 *   pending page: its object keeps them).
 * - next_wraps: lazy_mm_next() from past the last pending page finds the first one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lazy-pages/lazy-mm.h"

#define NP	1024
#define BASE	0x100000000ULL
#define ADDR(i) (BASE + (uint64_t)(i)*LAZY_PG)

struct page {
	bool in;      /* in a span */
	uint64_t src; /* image address, or object offset */
	bool pending;
	int span;    /* which span (a number per span, to see span edges) */
	bool shared; /* a shared object's span: obj */
	uint32_t obj;
};

static struct page model[NP];
static int next_span_id = 1;

/* The model's run from page i within its span and below page end. */
static uint64_t model_run(int i, int end)
{
	uint64_t n = 0;

	while (i + (int)n < end && model[i + n].in && model[i + n].pending &&
	       model[i + n].span == model[i].span)
		n++;
	return n;
}

static void check(const struct lazy_mm *m, unsigned *seed)
{
	uint64_t left = 0;

	for (int i = 0; i < NP; i++) {
		const struct lazy_span *s = lazy_mm_find(m, ADDR(i));

		assert_int_equal(!!s, model[i].in);
		if (!s)
			continue;
		assert_int_equal(s->src + (ADDR(i) - s->start), model[i].src);
		assert_int_equal(s->shared, model[i].shared);
		if (s->shared)
			assert_int_equal(s->obj, model[i].obj);
		assert_int_equal(lazy_mm_pending(m, ADDR(i)), model[i].pending);
		left += model[i].pending;
	}
	assert_int_equal(m->left, left);
	/* next from a random page: up to the end, then from the start */
	int from = (int)(rand_r(seed) % NP), first = -1;
	uint64_t at = 0, n = lazy_mm_next(m, ADDR(from), 8, &at);

	for (int i = from; i < NP && first < 0; i++)
		if (model[i].pending)
			first = i;
	for (int i = 0; i < NP && first < 0; i++)
		if (model[i].pending)
			first = i;
	if (first < 0) {
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(at, ADDR(first));
	assert_int_equal(n, model_run(first, first + 8 < NP ? first + 8 : NP));
	assert_int_equal(lazy_mm_run_at(m, ADDR(first), ADDR(NP)), model_run(first, NP));
}

static void op(struct lazy_mm *m, unsigned *seed)
{
	int a = (int)(rand_r(seed) % NP), len = 1 + (int)(rand_r(seed) % 64), b = a + len;

	if (b > NP)
		b = NP;
	switch (rand_r(seed) % 7) {
	case 0: { /* add where nothing is */
		for (int i = a; i < b; i++)
			if (model[i].in)
				return;
		assert_int_equal(lazy_mm_add(m, ADDR(a), ADDR(b)), 0);
		for (int i = a; i < b; i++)
			model[i] = (struct page){ true, ADDR(i), false, next_span_id, false, 0 };
		next_span_id++;
		break;
	}
	case 1:
		lazy_mm_set(m, ADDR(a), ADDR(b));
		for (int i = a; i < b; i++)
			model[i].pending = model[i].in && !model[i].shared;
		break;
	case 2: {
		uint64_t was = 0;

		for (int i = a; i < b; i++)
			was += model[i].pending;
		assert_int_equal(lazy_mm_clear(m, ADDR(a), ADDR(b)), was);
		for (int i = a; i < b; i++)
			model[i].pending = false;
		break;
	}
	case 3:
		assert_int_equal(lazy_mm_cut(m, ADDR(a), ADDR(b)), 0);
		/* the pieces left of a cut span are spans of their own */
		if (a > 0 && model[a - 1].in && model[a].in && model[a - 1].span == model[a].span)
			for (int i = a - 1, id = next_span_id++;
			     i >= 0 && model[i].in && model[i].span == model[a].span; i--)
				model[i].span = id;
		if (b < NP && model[b].in && model[b - 1].in && model[b].span == model[b - 1].span)
			for (int i = b, id = next_span_id++, old = model[b].span;
			     i < NP && model[i].in && model[i].span == old; i++)
				model[i].span = id;
		for (int i = a; i < b; i++)
			model[i] = (struct page){ 0 };
		break;
	case 4: { /* move [a, b) to [t, t + len) */
		int n = b - a, t = (int)(rand_r(seed) % (NP - n + 1));
		struct page moved[64];

		memcpy(moved, &model[a], (size_t)n * sizeof(*moved));
		assert_int_equal(lazy_mm_move(m, ADDR(a), ADDR(t), (uint64_t)n * LAZY_PG), 0);
		/* model: cut the source, cut the destination, put the pieces there */
		for (int pass = 0; pass < 2; pass++) {
			int s = pass ? t : a, e = pass ? t + n : b;

			if (s > 0 && model[s - 1].in && model[s].in &&
			    model[s - 1].span == model[s].span)
				for (int i = s - 1, id = next_span_id++, old = model[s].span;
				     i >= 0 && model[i].in && model[i].span == old; i--)
					model[i].span = id;
			if (e < NP && model[e].in && model[e - 1].in &&
			    model[e].span == model[e - 1].span)
				for (int i = e, id = next_span_id++, old = model[e].span;
				     i < NP && model[i].in && model[i].span == old; i++)
					model[i].span = id;
			for (int i = s; i < e; i++)
				model[i] = (struct page){ 0 };
		}
		for (int i = 0; i < n; i++) {
			if (!moved[i].in)
				continue;
			model[t + i] = moved[i];
			model[t + i].span = moved[i].span + 1000000; /* new spans, same grouping */
		}
		break;
	}
	case 6: { /* a shared object's span where nothing is */
		uint32_t obj = (uint32_t)(rand_r(seed) % 4);
		uint64_t off = (uint64_t)(rand_r(seed) % 4096) * LAZY_PG;

		for (int i = a; i < b; i++)
			if (model[i].in)
				return;
		assert_int_equal(lazy_mm_add_shared(m, ADDR(a), ADDR(b), obj, off), 0);
		for (int i = a; i < b; i++)
			model[i] = (struct page){ true,	 off + (uint64_t)(i - a) * LAZY_PG,
						  false, next_span_id,
						  true,	 obj };
		next_span_id++;
		break;
	}
	case 5: { /* clone, and go on with the clone */
		struct lazy_mm c;

		assert_int_equal(lazy_mm_clone(&c, m), 0);
		lazy_mm_free(m);
		*m = c;
		break;
	}
	}
}

static void test_ops(void **state)
{
	struct lazy_mm m = { 0 };
	unsigned seed = 12345;

	(void)state;
	memset(model, 0, sizeof(model));
	for (int k = 0; k < 20000; k++) {
		op(&m, &seed);
		check(&m, &seed);
	}
	lazy_mm_free(&m);
}

static void test_next_wraps(void **state)
{
	struct lazy_mm m = { 0 };
	uint64_t at = 0;

	(void)state;
	assert_int_equal(lazy_mm_add(&m, ADDR(10), ADDR(20)), 0);
	assert_int_equal(lazy_mm_add(&m, ADDR(100), ADDR(200)), 0);
	lazy_mm_set(&m, ADDR(12), ADDR(14));
	lazy_mm_set(&m, ADDR(150), ADDR(151));
	assert_int_equal(lazy_mm_next(&m, ADDR(151), 16, &at), 2);
	assert_int_equal(at, ADDR(12));
	assert_int_equal(lazy_mm_next(&m, ADDR(13), 16, &at), 1);
	assert_int_equal(at, ADDR(13));
	assert_int_equal(lazy_mm_next(&m, ADDR(14), 16, &at), 1);
	assert_int_equal(at, ADDR(150));
	assert_int_equal(lazy_mm_run_at(&m, ADDR(12), ADDR(13)), 1);
	assert_int_equal(lazy_mm_clear(&m, ADDR(0), ADDR(1000)), 3);
	assert_int_equal(lazy_mm_next(&m, 0, 16, &at), 0);
	lazy_mm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_next_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
