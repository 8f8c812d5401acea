/* pidfd_refuse00: a pidfd of a process outside the dumped tree (here the host's init, pid 1)
 * is refused at dump, naming the fd (tests.desc expect=dumpfail dumpmsg=outside), and the task runs
 * on with the pidfd as it was: it still refers to pid 1. (Not under pidns: there pid 1 is the test
 * itself.) */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char v[32];
	int fd;

	if (test_init(argc, argv))
		return 1;
	fd = (int)syscall(SYS_pidfd_open, 1, 0);
	if (fd < 0) {
		fail_errno("pidfd_open(1)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_fdinfo_get(fd, "Pid", v, sizeof(v)) || strtol(v, NULL, 10) != 1)
		fail("the pidfd no longer refers to pid 1");
	else
		pass();
	return 0;
}
