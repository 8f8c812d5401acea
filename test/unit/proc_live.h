/* proc_live: the live half of test_proc (a child process read back through the parsers). */
#ifndef TEST_PROC_LIVE_H
#define TEST_PROC_LIVE_H

#include <stdbool.h>

/* true when the log file of test_proc holds needle */
bool log_has(const char *needle);

int live_setup(void **state);
int live_teardown(void **state);
void test_proc_live(void **state);
/* a process that is gone: one error naming the file, -ENOENT */
void test_proc_gone(void **state);

#endif
