/* zdtm_self_nosetup (expect=setupfail): its setup opens a file that does not
 * exist and fails before test_daemon(); the runner must report a setup
 * failure with this message. Should the file exist, setup succeeds and the
 * runner reports that as a failure. */
#include <fcntl.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MISSING "/nonexistent-zdtm/zdtm_self_nosetup.conf"

int main(int argc, char **argv)
{
	int fd;

	if (test_init(argc, argv))
		return 1;
	fd = open(MISSING, O_RDONLY);
	if (fd < 0) {
		fail_errno("setup: can't open %s", MISSING);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();
	close(fd);
	pass();
	return 0;
}
