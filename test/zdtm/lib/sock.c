/* sock: a short directory of the test's own for the files its unix sockets are bound to.
 *
 * sun_path holds 107 bytes, and a test's work dir sits wherever the tree was cloned (CI's
 * path can be longer than that), so a test never binds below its cwd: test_sock_path()
 * names a file in a directory made with mkdtemp() under /tmp on the first call. The
 * directory and what is in it are removed when the process that made it exits (the exit
 * handler is in the test's memory, so it survives checkpoint/restore like the rest). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

static char sock_dir[32];
static pid_t sock_dir_owner;

static void sock_dir_remove(void)
{
	DIR *d;
	struct dirent *e;

	if (getpid() != sock_dir_owner)
		return;
	d = opendir(sock_dir);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(sock_dir);
}

int test_sock_path(char *out, size_t len, const char *name)
{
	if (!sock_dir[0]) {
		strcpy(sock_dir, "/tmp/zdtm-XXXXXX");
		if (!mkdtemp(sock_dir)) {
			sock_dir[0] = '\0';
			return -1;
		}
		sock_dir_owner = getpid();
		atexit(sock_dir_remove);
	}
	if ((size_t)snprintf(out, len, "%s/%s", sock_dir, name) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
