/* console_refuse00: an fd on the console (/dev/console) is refused at dump without --external
 * tty[5:1] (tests.desc expect=dumpfail dumpmsg=external: the message asks for --external tty[5:1];
 * it is the host's terminal, not the inherited one --shell-job would give the restorer's), and the
 * test runs on with the fd as it was. Skipped where the console can't be opened. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct stat st;
	int fd;

	if (test_init(argc, argv))
		return 1;
	fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd < 0) {
		skip("/dev/console can't be opened here: %s", strerror(errno));
		return 0;
	}
	test_daemon();
	test_waitsig();
	if (fstat(fd, &st) || st.st_rdev != makedev(5, 1)) {
		fail("the fd is no longer on the console");
		return 1;
	}
	pass();
	return 0;
}
