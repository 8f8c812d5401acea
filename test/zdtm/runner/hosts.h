/* hosts: two network namespaces joined by a veth pair, the "hosts" a remote test runs across:
 * A (198.18.0.1) and B (198.18.0.2), from 198.18.0.0/15 (RFC 2544: benchmarking, never
 * routed). Made with iproute2 (`ip netns`), one pair per test run.
 *
 * Contract: hosts_up() makes the pair (names zdtm-<runner pid>-a/-b: runners never share one; a
 * runner's runs, one after another, each make and remove theirs), with both ends and lo up; 0, or
 * -errno with why filled (the namespaces already made are removed again; what ip said is in the
 * file out). hosts_down() removes them (safe on a pair not made). hosts_reap_stale() removes every
 * zdtm-<pid>-a/-b pair whose runner is gone (a runner killed mid-run). hosts_path() is the
 * namespace file of A or B, for setns(). */
#ifndef ZDTM_HOSTS_H
#define ZDTM_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#define HOST_A_ADDR "198.18.0.1"
#define HOST_B_ADDR "198.18.0.2"

struct hosts {
	char a[48], b[48]; /* namespace names; "" when not made */
};

int hosts_up(struct hosts *h, const char *out, double deadline, char *why, size_t len);
void hosts_down(struct hosts *h);
void hosts_reap_stale(void);
/* "/run/netns/NAME" of A (b false) or B into buf */
void hosts_path(const struct hosts *h, bool b, char *buf, size_t len);

#endif
