/* leave00: a task dumped with --leave-running keeps running, and the images
 * restore it later in a consistent state. The test never stops working:
 * round n fills slot n % 2 with the pattern of seed n, then publishes n. The
 * runner (tests.desc opts=leave-running) dumps it with --leave-running,
 * checks it still runs untraced, kills it and restores the images: the
 * restored test carries on from the dump's moment. After SIGTERM, the slot
 * of the last published round must hold exactly that round's pattern: a dump
 * that copied memory while the task ran, or registers from another moment
 * than the memory, breaks it. */
#include <stdint.h>
#include <stdlib.h>

#include "zdtmtst.h"

#define SLOT (256u << 10)
#define SEED 0x1ea7e000u

struct work {
	unsigned char *slot[2];
	uint64_t gen[2];	/* the round each slot holds */
	volatile uint64_t done; /* the last round completed */
};

static void round_n(struct work *w, uint64_t n)
{
	unsigned char *s = w->slot[n % 2];

	test_fill_pattern(s, SLOT, SEED + n);
	w->gen[n % 2] = n;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the slot, then done */
	w->done = n;
}

int main(int argc, char **argv)
{
	struct work w = { .done = 0 };
	uint64_t n;
	ssize_t bad;

	if (test_init(argc, argv))
		return 1;
	w.slot[0] = malloc(SLOT);
	w.slot[1] = malloc(SLOT);
	if (!w.slot[0] || !w.slot[1]) {
		fail_errno("setup: malloc");
		return 1;
	}
	round_n(&w, 1);
	if (test_daemon())
		return 1;
	do {
		round_n(&w, w.done + 1);
	} while (test_go());

	n = w.done;
	test_msg("%llu rounds done", (unsigned long long)n);
	if (w.gen[n % 2] != n) {
		fail("round %llu is published but its slot holds round %llu", (unsigned long long)n,
		     (unsigned long long)w.gen[n % 2]);
		return 1;
	}
	bad = test_check_pattern(w.slot[n % 2], SLOT, SEED + n);
	if (bad >= 0) {
		fail("slot %llu of round %llu differs at byte %zd: 0x%02x",
		     (unsigned long long)(n % 2), (unsigned long long)n, bad, w.slot[n % 2][bad]);
		return 1;
	}
	free(w.slot[0]);
	free(w.slot[1]);
	pass();
	return 0;
}
