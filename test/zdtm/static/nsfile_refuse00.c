/* nsfile_refuse00: an fd on a namespace of another kind than a network namespace (here the
 * task's own UTS namespace, /proc/self/ns/uts) is refused at dump, naming the fd (tests.desc
 * expect=dumpfail dumpmsg="uts:["), and the task runs on with the fd as it was: after the
 * failed dump it still names the task's UTS namespace. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct stat a, b;
	int fd;

	if (test_init(argc, argv))
		return 1;
	fd = open("/proc/self/ns/uts", O_RDONLY);
	if (fd < 0 || fstat(fd, &a)) {
		fail_errno("/proc/self/ns/uts");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &b) || stat("/proc/self/ns/uts", &a) || a.st_ino != b.st_ino) {
		fail_errno("the fd on the UTS namespace changed");
		return 1;
	}
	pass();
	return 0;
}
