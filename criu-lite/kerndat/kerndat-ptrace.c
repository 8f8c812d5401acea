/* kerndat-ptrace: PTRACE_SEIZE + PTRACE_INTERRUPT on a real child (the way
 * dump freezes a tree), and the xstate regset of that stopped child: its size
 * and the XCR0 feature mask, which dump and restore must agree on. */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"

#define XSTATE_BUF_SIZE (64 * 1024) /* far above any XSAVE area so far (11008 with AMX) */
#define STOP_TIMEOUT_MS 2000

/* child: blocks in read() until killed, like a typical sleeping task */
static int seize_child(int fd, void *arg)
{
	char c;

	(void)arg;
	if (kd_write_full(fd, "R", 1))
		return 1;
	kd_read_full(fd, &c, 1);
	return 0;
}

/* XCR0 as this CPU reports it to us, 0 when XGETBV is not usable */
static uint64_t xgetbv0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xcr0_names(uint64_t xcr0, char *buf, size_t len)
{
	static const char *const bit_names[] = {
		[0] = "x87",	[1] = "SSE",	      [2] = "AVX",	     [3] = "BNDREGS",
		[4] = "BNDCSR", [5] = "opmask",	      [6] = "ZMM_Hi256",     [7] = "Hi16_ZMM",
		[9] = "PKRU",	[17] = "AMX-TILECFG", [18] = "AMX-TILEDATA", [19] = "APX",
	};
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 64 && o < len; i++) {
		const char *n = i < sizeof(bit_names) / sizeof(bit_names[0]) ? bit_names[i] : NULL;

		if (!(xcr0 & (1ULL << i)))
			continue;
		if (n)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", n);
		else
			o += (size_t)snprintf(buf + o, len - o, "%sbit%u", o ? " " : "", i);
	}
}

static void probe_xstate(struct kerndat *kd, pid_t pid)
{
	struct iovec iov;
	char eb[32], names[96], note[48] = "";
	uint64_t cpu_xcr0;
	void *buf;

	buf = calloc(1, XSTATE_BUF_SIZE);
	if (!buf) {
		kd_set(kd, KD_XSTATE, KD_NOT_PROBED, "no memory for a %d-byte buffer",
		       XSTATE_BUF_SIZE);
		return;
	}
	iov.iov_base = buf;
	iov.iov_len = XSTATE_BUF_SIZE;
	if (ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov)) {
		kd_set(kd, KD_XSTATE, KD_MISSING, "PTRACE_GETREGSET(pid %d, NT_X86_XSTATE): %s",
		       pid, kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	if (iov.iov_len < XSTATE_XCR0_OFFSET + sizeof(uint64_t)) {
		kd_set(kd, KD_XSTATE, KD_MISSING, "NT_X86_XSTATE of pid %d is only %zu bytes", pid,
		       iov.iov_len);
		goto out;
	}
	kd->xstate_size = (uint32_t)iov.iov_len;
	memcpy(&kd->xcr0, (char *)buf + XSTATE_XCR0_OFFSET, sizeof(kd->xcr0));
	cpu_xcr0 = xgetbv0();
	if (cpu_xcr0 && cpu_xcr0 != kd->xcr0)
		snprintf(note, sizeof(note), "; XGETBV says 0x%llx", (unsigned long long)cpu_xcr0);
	xcr0_names(kd->xcr0, names, sizeof(names));
	kd_set(kd, KD_XSTATE, KD_OK, "%u bytes, XCR0 0x%llx: %s%s", kd->xstate_size,
	       (unsigned long long)kd->xcr0, names, note);
out:
	free(buf);
}

/* A tracer may suspend its tracee's seccomp filters (CONFIG_CHECKPOINT_RESTORE, CAP_SYS_ADMIN,
 * and a tracer not under seccomp itself): remote calls into a task with filters (or in strict
 * mode) then run unfiltered, and the filters hold again once it is detached. */
static void probe_suspend_seccomp(struct kerndat *kd, pid_t pid)
{
	char eb[32];

	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP))) {
		kd_set(kd, KD_SUSPEND_SECCOMP, KD_MISSING, "PTRACE_SETOPTIONS(pid %d): %s", pid,
		       kd_errstr(errno, eb, sizeof(eb)));
		return;
	}
	kd_ok(kd, KD_SUSPEND_SECCOMP);
}

int kd_probe_ptrace(struct kerndat *kd)
{
	struct kd_child c;
	char eb[32], ack;
	int ret, status;

	ret = kd_child_start(&c, seize_child, NULL);
	if (!ret)
		ret = kd_child_recv(&c, &ack, 1);
	if (ret) {
		kd_set(kd, KD_PTRACE_SEIZE, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	if (ptrace(PTRACE_SEIZE, c.pid, NULL, (void *)(long)PTRACE_O_EXITKILL)) {
		kd_set(kd, KD_PTRACE_SEIZE, KD_MISSING, "PTRACE_SEIZE(pid %d): %s", c.pid,
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	if (ptrace(PTRACE_INTERRUPT, c.pid, NULL, NULL)) {
		kd_set(kd, KD_PTRACE_SEIZE, KD_MISSING, "PTRACE_INTERRUPT(pid %d): %s", c.pid,
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	ret = kd_child_wait(&c, &status, STOP_TIMEOUT_MS);
	if (ret) {
		kd_set(kd, KD_PTRACE_SEIZE, KD_MISSING, "waiting for the stop of pid %d: %s", c.pid,
		       kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP ||
	    (status >> 16) != PTRACE_EVENT_STOP) {
		kd_set(kd, KD_PTRACE_SEIZE, KD_MISSING,
		       "pid %d: wait status 0x%x, not a PTRACE_EVENT_STOP trap", c.pid, status);
		if (!WIFSTOPPED(status))
			c.pid = 0; /* already reaped */
		goto out;
	}
	kd_ok(kd, KD_PTRACE_SEIZE);
	probe_xstate(kd, c.pid);
	probe_suspend_seccomp(kd, c.pid);
out:
	if (!kd_has(kd, KD_PTRACE_SEIZE)) {
		kd_set(kd, KD_XSTATE, KD_NOT_PROBED, "needs a ptrace-stopped child");
		kd_set(kd, KD_SUSPEND_SECCOMP, KD_NOT_PROBED, "needs a ptrace-stopped child");
	}
	kd_child_stop(&c);
	return 0;
}
