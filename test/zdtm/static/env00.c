/* env00: the environment survives checkpoint/restore: getenv() (the environ
 * array, in the heap) and /proc/self/environ (the kernel's env_start..env_end
 * of the mm) still hold the variable the test was started with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define VAR "ZDTM_ENV00"
#define VAL "env00 value: spaces, = signs, 'quotes' and UTF-8 \xc3\xa9"

/* Does the NUL-separated environ block hold exactly the entry VAR=VAL? */
static int has_entry(const char *env, size_t len)
{
	const char *want = VAR "=" VAL;

	for (size_t off = 0; off < len; off += strlen(env + off) + 1) {
		if (!strcmp(env + off, want))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *v = getenv(VAR);
	char *before, *after;
	size_t blen, alen;

	/* /proc/self/environ shows the environment exec() was given, not later
	 * setenv()s: so start again with the variable in it */
	if (!v || strcmp(v, VAL)) {
		if (setenv(VAR, VAL, 1)) {
			perror("env00: setenv");
			return 1;
		}
		execv("/proc/self/exe", argv);
		perror("env00: re-exec with " VAR " set");
		return 1;
	}
	if (test_init(argc, argv))
		return 1;
	before = test_read_file("/proc/self/environ", &blen);
	if (!before) {
		fail_errno("setup: read /proc/self/environ");
		return 1;
	}
	if (!has_entry(before, blen)) {
		fail("setup: /proc/self/environ (%zu bytes) lacks %s", blen, VAR);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	v = getenv(VAR);
	if (!v || strcmp(v, VAL)) {
		fail("getenv(%s) is '%s', expected '%s'", VAR, v ? v : "(unset)", VAL);
		return 1;
	}
	after = test_read_file("/proc/self/environ", &alen);
	if (!after) {
		fail_errno("read /proc/self/environ after SIGTERM");
		return 1;
	}
	if (!has_entry(after, alen)) {
		fail("/proc/self/environ (%zu bytes) lacks %s=%s", alen, VAR, VAL);
		return 1;
	}
	if (alen != blen || memcmp(before, after, blen)) {
		fail("/proc/self/environ changed: %zu bytes, was %zu", alen, blen);
		return 1;
	}
	free(before);
	free(after);
	pass();
	return 0;
}
