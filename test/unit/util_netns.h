/* util_netns: a network namespace of the test's own (linked into every unit binary).
 *
 * Contract: utest_own_netns() moves the calling thread into a new network namespace
 * (unshare(CLONE_NEWNET)) and brings its loopback up (127.0.0.1, and ::1 where IPv6 is on);
 * 0, or -errno without printing (-EPERM without CAP_SYS_ADMIN: the caller skips, saying so).
 * Called again, it leaves the last namespace for a fresh one.
 */
#ifndef CRIU_LITE_TEST_UTIL_NETNS_H
#define CRIU_LITE_TEST_UTIL_NETNS_H

int utest_own_netns(void);

#endif
