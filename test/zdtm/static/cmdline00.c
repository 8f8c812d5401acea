/* cmdline00: the command line survives checkpoint/restore: argv[] (strings on
 * the stack) and /proc/self/cmdline (the kernel's arg_start..arg_end) still
 * hold what they held before. The test re-executes itself with awkward
 * arguments first: an empty one, one with spaces, a long one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LONG_ARG_LEN 300

static int has_separator(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 1;
	}
	return 0;
}

static void reexec(int argc, char **argv)
{
	char long_arg[LONG_ARG_LEN + 1] = "";
	char **nargv = calloc((size_t)argc + 5, sizeof(*nargv));

	if (!nargv) {
		perror("cmdline00: calloc");
		return;
	}
	memset(long_arg, 'x', LONG_ARG_LEN);
	memcpy(nargv, argv, (size_t)argc * sizeof(*nargv));
	nargv[argc] = "--";
	nargv[argc + 1] = "";
	nargv[argc + 2] = "an argument with spaces";
	nargv[argc + 3] = long_arg;
	execv("/proc/self/exe", nargv);
	perror("cmdline00: re-exec with extra arguments");
	free(nargv);
}

/* argv joined by NULs, as /proc/PID/cmdline shows it. */
static char *join_argv(int argc, char **argv, size_t *len)
{
	size_t n = 0;
	char *buf;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	buf = malloc(n);
	if (!buf)
		return NULL;
	*len = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		memcpy(buf + *len, argv[i], l);
		*len += l;
	}
	return buf;
}

static int same(const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0;

	while (i < alen && i < blen && a[i] == b[i])
		i++;
	if (alen == blen && i == alen)
		return 1;
	fail("%s: %zu bytes, expected %zu; first difference at byte %zu", what, alen, blen, i);
	return 0;
}

int main(int argc, char **argv)
{
	char *recorded, *proc, *now;
	size_t rlen, plen, nlen;

	if (!has_separator(argc, argv)) {
		reexec(argc, argv);
		return 1;
	}
	if (test_init(argc, argv))
		return 1;
	recorded = join_argv(argc, argv, &rlen); /* a copy, off the stack */
	proc = test_read_file("/proc/self/cmdline", &plen);
	if (!recorded || !proc) {
		fail_errno("setup: copy argv / read /proc/self/cmdline");
		return 1;
	}
	if (!same("/proc/self/cmdline at start", proc, plen, recorded, rlen))
		return 1;
	free(proc);
	if (test_daemon())
		return 1;
	test_waitsig();

	now = join_argv(argc, argv, &nlen);
	proc = test_read_file("/proc/self/cmdline", &plen);
	if (!now || !proc) {
		fail_errno("copy argv / read /proc/self/cmdline after SIGTERM");
		return 1;
	}
	if (!same("argv[]", now, nlen, recorded, rlen) ||
	    !same("/proc/self/cmdline", proc, plen, recorded, rlen))
		return 1;
	free(recorded);
	free(proc);
	free(now);
	pass();
	return 0;
}
