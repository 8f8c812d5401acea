/* personality00: the execution domain flags survive checkpoint/restore:
 * personality(0xffffffff) and /proc/self/personality show the flags set
 * before (ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | UNAME26), and the flags
 * still act: uname() reports a 2.6 release (UNAME26) and a new PROT_READ
 * mapping is executable in /proc/self/maps (READ_IMPLIES_EXEC). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/utsname.h>

#include "zdtmtst.h"

#define PERS (PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | UNAME26)

/* The perms of the maps line starting at addr, into perms[5]. */
static int maps_perms(const void *addr, char *perms)
{
	char key[32], *maps, *line, *save;
	size_t len;
	int ret = -1;

	maps = test_read_file("/proc/self/maps", &len);
	if (!maps)
		return -1;
	snprintf(key, sizeof(key), "%lx-", (unsigned long)addr);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, key, strlen(key)) && sscanf(line, "%*s %4s", perms) == 1) {
			ret = 0;
			break;
		}
	}
	free(maps);
	return ret;
}

static int check_effects(const char *when)
{
	struct utsname u = { .release = "(uname failed)" };
	char perms[5] = "";
	void *p;

	if (uname(&u) || strncmp(u.release, "2.6.", 4)) {
		fail("%s: uname() release is '%s', expected 2.6.x (UNAME26)", when, u.release);
		return -1;
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || maps_perms(p, perms)) {
		fail_errno("%s: mmap(PROT_READ) and its maps line", when);
		return -1;
	}
	munmap(p, 4096);
	if (strcmp(perms, "r-xp")) {
		fail("%s: a PROT_READ mapping has perms %s, expected r-xp (READ_IMPLIES_EXEC)",
		     when, perms);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long proc = 0;
	size_t len;
	char *s;
	int now;

	if (test_init(argc, argv))
		return 1;
	if (personality(PERS) < 0 || personality(0xffffffff) != PERS) {
		fail_errno("setup: personality(%#x)", PERS);
		return 1;
	}
	if (check_effects("setup"))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	now = personality(0xffffffff);
	if (now != PERS) {
		fail("personality is %#x, expected %#x", (unsigned)now, PERS);
		return 1;
	}
	s = test_read_file("/proc/self/personality", &len);
	if (!s || sscanf(s, "%lx", &proc) != 1 || proc != PERS) {
		fail("/proc/self/personality is '%.16s', expected %08x", s ? s : "(unreadable)",
		     PERS);
		return 1;
	}
	free(s);
	if (check_effects("after SIGTERM"))
		return 1;
	pass();
	return 0;
}
