/* comm00: the task name survives checkpoint/restore: prctl(PR_GET_NAME),
 * /proc/self/comm and the "(comm)" field of /proc/self/stat hold the name set
 * with PR_SET_NAME, 15 bytes with a space and a ')' in it to trip naive
 * parsers of /proc/PID/stat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAME "zdtm c0mm)00:x" /* 14 bytes; the kernel keeps up to 15 */

static int check_proc(const char *path, const char *prefix, const char *suffix)
{
	char want[64];
	size_t len;
	char *s = test_read_file(path, &len);
	int ret = 0;

	if (!s) {
		fail_errno("read %s", path);
		return -1;
	}
	snprintf(want, sizeof(want), "%s%s%s", prefix, NAME, suffix);
	if (strncmp(s, want, strlen(want))) {
		fail("%s starts with '%.*s', expected '%s'", path, (int)strlen(want), s, want);
		ret = -1;
	}
	free(s);
	return ret;
}

int main(int argc, char **argv)
{
	char name[17] = "";
	char pid[32];

	if (test_init(argc, argv))
		return 1;
	if (prctl(PR_SET_NAME, NAME, 0, 0, 0)) {
		fail_errno("setup: PR_SET_NAME");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (prctl(PR_GET_NAME, name, 0, 0, 0)) {
		fail_errno("PR_GET_NAME");
		return 1;
	}
	if (strcmp(name, NAME)) {
		fail("PR_GET_NAME gives '%s', expected '%s'", name, NAME);
		return 1;
	}
	snprintf(pid, sizeof(pid), "%d (", getpid());
	if (check_proc("/proc/self/comm", "", "\n") || check_proc("/proc/self/stat", pid, ") "))
		return 1;
	pass();
	return 0;
}
