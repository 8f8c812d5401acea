/* stack00: a deep stack survives checkpoint/restore: the test recurses
 * DEPTH frames deep, each frame holding its own pattern and a pointer to its
 * caller's data, waits at the bottom, and checks every frame as it unwinds
 * (so the return addresses and saved registers of 2000 frames work too).
 * The [stack] VMA in /proc/self/maps is the same at the bottom before and
 * after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zdtmtst.h"

#define DEPTH	2000
#define FRAME	1024 /* bytes of pattern a frame: about 2 MiB of stack in all */
#define SEED	0x57ac0000u
#define MAX_BAD 8

struct ctx {
	char stack_vma[128];  /* the [stack] line at the bottom, before the wait */
	unsigned long bottom; /* address of the deepest frame's data */
	int bad;	      /* frame checks that failed */
};

/* Grow the stack VMA below the bottom frame now, so that the calls made
 * there (test_daemon, test_waitsig, reading maps) do not grow it later. */
static __attribute__((noinline)) void touch_below(void)
{
	volatile unsigned char room[64 << 10];

	for (size_t i = 0; i < sizeof(room); i += 512)
		room[i] = 1;
}

static int at_bottom(struct ctx *c, unsigned char *data)
{
	char line[128];
	unsigned long s = 0, e = 0;

	c->bottom = (unsigned long)data;
	touch_below();
	if (test_maps_line(" [stack]", c->stack_vma, sizeof(c->stack_vma))) {
		fail_errno("setup: no [stack] line in /proc/self/maps");
		return -1;
	}
	if (test_daemon())
		return -1;
	test_waitsig();

	if (test_maps_line(" [stack]", line, sizeof(line))) {
		fail_errno("no [stack] line in /proc/self/maps after SIGTERM");
		return -1;
	}
	if (strcmp(line, c->stack_vma)) {
		fail("[stack] VMA is '%s', expected '%s'", line, c->stack_vma);
		return -1;
	}
	if (sscanf(line, "%lx-%lx", &s, &e) != 2 || c->bottom < s || c->bottom >= e) {
		fail("the deepest frame's data at %#lx is outside the [stack] VMA '%s'", c->bottom,
		     line);
		return -1;
	}
	return 0;
}

static void check_frame(struct ctx *c, int depth, const unsigned char *data)
{
	unsigned char exp[FRAME];
	ssize_t bad = test_check_pattern(data, FRAME, SEED + (uint64_t)depth);

	if (bad < 0)
		return;
	test_fill_pattern(exp, FRAME, SEED + (uint64_t)depth);
	if (c->bad++ < MAX_BAD)
		fail("frame %d (of %d) data at %p: byte %zd is 0x%02x, expected 0x%02x", depth,
		     DEPTH, (const void *)data, bad, data[bad], exp[bad]);
}

/* Recurse; returns -1 once the bottom failed. noinline and the checks after
 * the call keep every frame real (no tail call, no merged frames). */
static __attribute__((noinline)) int dive(struct ctx *c, int depth, const unsigned char *caller)
{
	unsigned char data[FRAME];
	int ret;

	test_fill_pattern(data, FRAME, SEED + (uint64_t)depth);
	if (depth == DEPTH)
		ret = at_bottom(c, data);
	else
		ret = dive(c, depth + 1, data);
	check_frame(c, depth, data);
	if (caller)
		check_frame(c, depth - 1, caller);
	return ret;
}

int main(int argc, char **argv)
{
	struct ctx c = { .bad = 0 };

	if (test_init(argc, argv))
		return 1;
	if (dive(&c, 1, NULL))
		return 1;
	if (c.bad) {
		if (c.bad > MAX_BAD)
			fail("%d frame checks failed in all", c.bad);
		return 1;
	}
	pass();
	return 0;
}
