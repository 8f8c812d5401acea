/* zdtm_self_timeout (expect=timeout, timeout=2): ignores SIGTERM and never
 * ends, so the runner must kill it at its time limit. */
#include <signal.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	if (test_init(argc, argv))
		return 1;
	if (sigaction(SIGTERM, &ign, NULL)) {
		fail_errno("setup: sigaction(SIGTERM, SIG_IGN)");
		return 1;
	}
	if (test_daemon())
		return 1;
	for (;;)
		pause();
}
