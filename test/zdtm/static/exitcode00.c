/* exitcode00: the exit status of a restored task reaches whoever waits for
 * it. The runner (tests.desc opts=restore-wait) restores it with a restore
 * command that stays in the foreground (no -d) as its parent; after SIGTERM the
 * test checks its memory and exits with EXIT_CODE, and the runner takes the
 * restore command's own exit status as the test's: tests.desc exit=42 makes
 * any other status a failure. Under nocr the runner sees the status itself. */
#include <stdlib.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define EXIT_CODE 42 /* tests.desc exit= */
#define LEN	  (256u << 10)
#define SEED	  0xe4170000u

int main(int argc, char **argv)
{
	unsigned char *mem;
	ssize_t bad;

	if (test_init(argc, argv))
		return 1;
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail_errno("setup: mmap %u bytes", LEN);
		return 1;
	}
	test_fill_pattern(mem, LEN, SEED);
	if (test_daemon())
		return 1;
	test_waitsig();

	bad = test_check_pattern(mem, LEN, SEED);
	if (bad >= 0) {
		fail("memory at %p differs at byte %zd", (void *)mem, bad);
		return 1;
	}
	pass();
	return EXIT_CODE;
}
