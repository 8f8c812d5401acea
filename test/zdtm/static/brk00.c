/* brk00: the program break survives checkpoint/restore: sbrk(0), start_brk
 * (/proc/self/stat field 47) and the [heap] VMA are where they were, the
 * memory grown with sbrk() holds its pattern, and brk still works: it grows
 * (the new memory is usable) and shrinks (the memory above is unmapped).
 * malloc() may move the break itself: it is set up before the test's sbrk()
 * (test_daemon's dprintf buffer then comes from its free space), and /proc
 * files are read into stack buffers. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	4096ul
#define GROW	((1ul << 20) + 123) /* the break ends inside a page */
#define GROW2	(64ul << 10)
#define SEED	0xb4c00000u
#define SEED2	0xb4c00001u
#define PROCBUF 65536

/* Read a /proc file into buf (NUL-terminated): 0 or -1 with errno. */
static int read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return 0;
}

/* start_brk, field 47 of /proc/self/stat (fields counted after "(comm)"). */
static int start_brk(unsigned long *v)
{
	char buf[2048], *p;
	int field = 2;

	if (read_proc("/proc/self/stat", buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');
	while (p && field < 47) {
		p = strchr(p + 1, ' ');
		field++;
	}
	if (!p || sscanf(p + 1, "%lu", v) != 1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* The [heap] line of /proc/self/maps: 0, or -1 (errno ENOENT: no such line). */
static int heap_vma(unsigned long *s, unsigned long *e)
{
	char buf[PROCBUF], *line = buf;

	if (read_proc("/proc/self/maps", buf, sizeof(buf)))
		return -1;
	for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 7 && !memcmp(line + len - 7, " [heap]", 7))
			return sscanf(line, "%lx-%lx", s, e) == 2 ? 0 : -1;
	}
	errno = ENOENT;
	return -1;
}

static unsigned long page_up(unsigned long a)
{
	return (a + PG - 1) & ~(PG - 1);
}

static int check_layout(unsigned long sb, unsigned long end)
{
	unsigned long now = (unsigned long)sbrk(0), sb_now, hs, he;

	if (now != end) {
		fail("sbrk(0) is %#lx, expected %#lx", now, end);
		return -1;
	}
	if (start_brk(&sb_now)) {
		fail_errno("start_brk from /proc/self/stat");
		return -1;
	}
	if (sb_now != sb) {
		fail("start_brk is %#lx, expected %#lx", sb_now, sb);
		return -1;
	}
	if (heap_vma(&hs, &he)) {
		fail_errno("[heap] in /proc/self/maps");
		return -1;
	}
	if (hs != sb || he != page_up(end)) {
		fail("[heap] is %lx-%lx, expected %lx-%lx", hs, he, sb, page_up(end));
		return -1;
	}
	return 0;
}

static int check_pattern(const unsigned char *p, size_t len, uint64_t seed, const char *what)
{
	ssize_t bad = test_check_pattern(p, len, seed);

	if (bad >= 0) {
		fail("%s (%zu bytes at %p) differs at offset %zd: 0x%02x", what, len,
		     (const void *)p, bad, p[bad]);
		return -1;
	}
	return 0;
}

/* After the restore: grow, use, shrink, and see the memory go. */
static int check_grow_shrink(unsigned char *mem, unsigned long sb, unsigned long end)
{
	unsigned char *more = sbrk(GROW2), vec;
	unsigned long low;

	if (more == (void *)-1) {
		fail_errno("sbrk(+%lu) after SIGTERM", GROW2);
		return -1;
	}
	if ((unsigned long)more != end) {
		fail("sbrk(+%lu) returned %p, expected %#lx", GROW2, (void *)more, end);
		return -1;
	}
	test_fill_pattern(more, GROW2, SEED2);
	if (check_layout(sb, end + GROW2) || check_pattern(more, GROW2, SEED2, "grown brk"))
		return -1;
	low = (unsigned long)mem + GROW / 2;
	if (brk((void *)low)) {
		fail_errno("brk(%#lx) to shrink", low);
		return -1;
	}
	if (check_layout(sb, low) || check_pattern(mem, GROW / 2, SEED, "shrunk brk"))
		return -1;
	if (mincore((void *)page_up(low), PG, &vec) == 0 || errno != ENOMEM) {
		fail("the page at %#lx above the shrunk break is still mapped", page_up(low));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long sb, end;
	unsigned char *mem;
	void *volatile warm; /* volatile: the compiler may not drop the pair */

	if (test_init(argc, argv))
		return 1;
	if (start_brk(&sb)) {
		fail_errno("setup: start_brk from /proc/self/stat");
		return 1;
	}
	warm = malloc(PG); /* malloc's arena exists before the test's sbrk */
	free(warm);
	mem = sbrk(GROW);
	if (mem == (void *)-1) {
		fail_errno("setup: sbrk(%lu)", GROW);
		return 1;
	}
	end = (unsigned long)mem + GROW;
	test_fill_pattern(mem, GROW, SEED);
	if (check_layout(sb, end))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_layout(sb, end) || check_pattern(mem, GROW, SEED, "brk memory") ||
	    check_grow_shrink(mem, sb, end))
		return 1;
	pass();
	return 0;
}
