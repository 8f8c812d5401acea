/* zdtm_self_skip: skips during setup, as a test does when the machine lacks
 * what it needs; the runner must count it skipped and show the reason. */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	skip("self-test of the skip path: a real test skips when the kernel lacks a feature");
	return 0;
}
