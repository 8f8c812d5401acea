/* zdtm_self_fail (expect=fail): reports a failure after SIGTERM, always. The
 * runner counts it passed only if it saw the FAIL: line, which proves that a
 * failing test is noticed. */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();
	fail("deliberate failure after SIGTERM (the runner must notice it)");
	pass(); /* must not cover the failure up */
	return 1;
}
