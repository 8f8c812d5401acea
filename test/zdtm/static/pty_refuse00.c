/* pty_refuse00: a pty with data in flight (bytes its slave wrote that the master has not read)
 * is refused at dump, naming the fd (tests.desc expect=dumpfail dumpmsg=flight), and
 * the task runs on with the bytes still there: the master reads them after the failed dump. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zdtmtst.h"

extern int posix_openpt(int flags);
extern int grantpt(int fd);
extern int unlockpt(int fd);

int main(int argc, char **argv)
{
	unsigned int n;
	char p[32], buf[16];
	int m, s;

	if (test_init(argc, argv))
		return 1;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m) || ioctl(m, TIOCGPTN, &n)) {
		fail_errno("setup: pty");
		return 1;
	}
	snprintf(p, sizeof(p), "/dev/pts/%u", n);
	s = open(p, O_RDWR | O_NOCTTY);
	if (s < 0 || write(s, "queued", 6) != 6) {
		fail_errno("setup: slave");
		return 1;
	}

	test_daemon();
	test_waitsig();

	memset(buf, 0, sizeof(buf));
	if (read(m, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6))
		fail("the master reads \"%s\", not the bytes queued before the dump", buf);
	else
		pass();
	return 0;
}
