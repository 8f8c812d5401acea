/* kerndat-proc: process primitives restore and dump stand on: clone3 with
 * set_tid, pidfd_open + pidfd_getfd, process_vm_readv/writev, memfd_create
 * and time namespaces. Each is exercised on a real child or object. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"

#define PID_MIN_PROBE 300 /* RESERVED_PIDS: pid allocation wraps around to here */

static void reap_pid(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- clone3 set_tid ---- */

/* i-th candidate pid, well away from where the kernel allocates next */
static pid_t pid_candidate(unsigned long last, unsigned long pid_max, int i)
{
	unsigned long span = pid_max - PID_MIN_PROBE;

	return (pid_t)(PID_MIN_PROBE + (last + 1000 + (unsigned long)i * 997) % span);
}

static void probe_clone3(struct kerndat *kd)
{
	unsigned long pid_max, last;
	char eb[32], path[32];
	pid_t want = 0;
	int err = 0;

	if (kd_read_ulong("/proc/sys/kernel/pid_max", &pid_max) ||
	    kd_read_ulong("/proc/sys/kernel/ns_last_pid", &last)) {
		kd_set(kd, KD_CLONE3_SET_TID, KD_NOT_PROBED,
		       "cannot read /proc/sys/kernel/pid_max or ns_last_pid");
		return;
	}
	if (pid_max <= PID_MIN_PROBE + 1) {
		kd_set(kd, KD_CLONE3_SET_TID, KD_NOT_PROBED, "pid_max is only %lu", pid_max);
		return;
	}
	for (int i = 0; i < 8; i++) {
		struct clone_args ca = { .exit_signal = SIGCHLD, .set_tid_size = 1 };
		struct stat st;
		pid_t pid;

		want = pid_candidate(last, pid_max, i);
		snprintf(path, sizeof(path), "/proc/%d", want);
		if (stat(path, &st) == 0)
			continue; /* in use */
		ca.set_tid = (uintptr_t)&want;
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			err = errno;
			if (err == EEXIST) /* taken since the stat(): try another */
				continue;
			break;
		}
		reap_pid(pid);
		if (pid == want)
			kd_set(kd, KD_CLONE3_SET_TID, KD_OK, "a child got pid %d as asked", want);
		else
			kd_set(kd, KD_CLONE3_SET_TID, KD_MISSING, "asked for pid %d, got %d", want,
			       pid);
		return;
	}
	if (!err) {
		kd_set(kd, KD_CLONE3_SET_TID, KD_NOT_PROBED, "found no free pid to ask for");
		return;
	}
	kd_set(kd, KD_CLONE3_SET_TID, KD_MISSING, "clone3(set_tid=[%d]): %s%s", want,
	       kd_errstr(err, eb, sizeof(eb)),
	       err == EPERM    ? " (needs CAP_CHECKPOINT_RESTORE)"
	       : err == ENOSYS ? " (kernel < 5.5)"
			       : "");
}

/* ---- pidfd_open + pidfd_getfd ---- */

#define PIDFD_MARK "kd-pidfd"

/* child: a pipe holding a marker; tells the parent the read end's number */
static int pidfd_child(int fd, void *arg)
{
	char c;
	int p[2];

	(void)arg;
	if (pipe(p) || kd_write_full(p[1], PIDFD_MARK, sizeof(PIDFD_MARK)) ||
	    kd_write_full(fd, &p[0], sizeof(p[0])))
		return 1;
	kd_read_full(fd, &c, 1); /* until the parent is done */
	return 0;
}

static void probe_pidfd(struct kerndat *kd)
{
	struct kd_child c;
	char eb[32], got[sizeof(PIDFD_MARK)];
	int ret, child_fd, pidfd = -1, fd = -1;

	ret = kd_child_start(&c, pidfd_child, NULL);
	if (!ret)
		ret = kd_child_recv(&c, &child_fd, sizeof(child_fd));
	if (ret) {
		kd_set(kd, KD_PIDFD, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);
	if (pidfd < 0) {
		kd_set(kd, KD_PIDFD, KD_MISSING, "pidfd_open(%d): %s", c.pid,
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	if (fd < 0) {
		kd_set(kd, KD_PIDFD, KD_MISSING, "pidfd_getfd(pid %d, fd %d): %s", c.pid, child_fd,
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	if (read(fd, got, sizeof(got)) != (ssize_t)sizeof(got) ||
	    memcmp(got, PIDFD_MARK, sizeof(got)))
		kd_set(kd, KD_PIDFD, KD_MISSING, "fd %d taken from pid %d does not hold its data",
		       child_fd, c.pid);
	else
		kd_ok(kd, KD_PIDFD);
out:
	if (fd >= 0)
		close(fd);
	if (pidfd >= 0)
		close(pidfd);
	kd_child_stop(&c);
}

/* ---- process_vm_readv / process_vm_writev ---- */

#define PVM_CHILD  "written by the child"
#define PVM_PARENT "written by the parent"
#define PVM_LEN	   32

/* child: fills its copy of the buffer, then checks what the parent wrote */
static int pvm_child(int fd, void *arg)
{
	char *buf = arg, go, ok;

	memset(buf, 0, PVM_LEN);
	strcpy(buf, PVM_CHILD);
	if (kd_write_full(fd, "R", 1) || kd_read_full(fd, &go, 1))
		return 1;
	ok = strcmp(buf, PVM_PARENT) == 0 ? '1' : '0';
	kd_write_full(fd, &ok, 1);
	kd_read_full(fd, &go, 1);
	return 0;
}

static void probe_process_vm(struct kerndat *kd)
{
	char buf[PVM_LEN] = "", got[PVM_LEN], eb[32], ack;
	struct iovec l = { .iov_base = got, .iov_len = PVM_LEN };
	struct iovec r = { .iov_base = buf, .iov_len = PVM_LEN };
	struct kd_child c;
	ssize_t n;
	int ret;

	ret = kd_child_start(&c, pvm_child, buf);
	if (!ret)
		ret = kd_child_recv(&c, &ack, 1);
	if (ret) {
		kd_set(kd, KD_PROCESS_VM, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	n = process_vm_readv(c.pid, &l, 1, &r, 1, 0);
	if (n != PVM_LEN || strcmp(got, PVM_CHILD)) {
		kd_set(kd, KD_PROCESS_VM, KD_MISSING, "process_vm_readv(pid %d, %p): %s", c.pid,
		       (void *)buf, n < 0 ? kd_errstr(errno, eb, sizeof(eb)) : "wrong data");
		goto out;
	}
	memset(got, 0, PVM_LEN);
	strcpy(got, PVM_PARENT);
	n = process_vm_writev(c.pid, &l, 1, &r, 1, 0);
	if (n != PVM_LEN) {
		kd_set(kd, KD_PROCESS_VM, KD_MISSING, "process_vm_writev(pid %d, %p): %s", c.pid,
		       (void *)buf, n < 0 ? kd_errstr(errno, eb, sizeof(eb)) : "short write");
		goto out;
	}
	ret = kd_child_send(&c, "W", 1);
	if (!ret)
		ret = kd_child_recv(&c, &ack, 1);
	if (ret)
		kd_set(kd, KD_PROCESS_VM, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
	else if (ack != '1')
		kd_set(kd, KD_PROCESS_VM, KD_MISSING,
		       "pid %d did not see what process_vm_writev wrote", c.pid);
	else
		kd_ok(kd, KD_PROCESS_VM);
out:
	kd_child_stop(&c);
}

/* ---- memfd_create ---- */

static void probe_memfd(struct kerndat *kd)
{
	static const char mark[] = "kd-memfd";
	char eb[32], got[sizeof(mark)];
	char *map = MAP_FAILED;
	int fd;

	fd = memfd_create("criu-lite-kerndat", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		kd_set(kd, KD_MEMFD, KD_MISSING, "memfd_create: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		return;
	}
	if (ftruncate(fd, KD_PAGE_SIZE) == 0)
		map = mmap(NULL, KD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		kd_set(kd, KD_MEMFD, KD_MISSING, "ftruncate+mmap of a memfd: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	memcpy(map, mark, sizeof(mark));
	if (pread(fd, got, sizeof(got), 0) != (ssize_t)sizeof(got) ||
	    memcmp(got, mark, sizeof(got)))
		kd_set(kd, KD_MEMFD, KD_MISSING, "memfd %d: pread does not see the mapping's data",
		       fd);
	else
		kd_ok(kd, KD_MEMFD);
	munmap(map, KD_PAGE_SIZE);
out:
	close(fd);
}

/* ---- time namespace ---- */

#define TIMENS_OFFSET 86400L

struct timens_result {
	int err;	  /* positive errno of the failed step, 0 when all worked */
	char step[48];	  /* the step that failed */
	long seen_offset; /* CLOCK_MONOTONIC in a child of the new ns minus ours */
};

static int timens_report(int fd, struct timens_result *r, const char *step, int err)
{
	r->err = err;
	snprintf(r->step, sizeof(r->step), "%s", step);
	return kd_write_full(fd, r, sizeof(*r)) || err ? 1 : 0;
}

/* child: unshare a time ns, shift its monotonic clock, read it from a grandchild */
static int timens_child(int fd, void *arg)
{
	struct timens_result r = { 0 };
	struct timespec ours, theirs;
	int p[2], tfd, ret, len;
	char offs[48];
	pid_t gc;

	(void)arg;
	if (unshare(CLONE_NEWTIME))
		return timens_report(fd, &r, "unshare(CLONE_NEWTIME)", errno);
	tfd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (tfd < 0)
		return timens_report(fd, &r, "open /proc/self/timens_offsets", errno);
	len = snprintf(offs, sizeof(offs), "monotonic %ld 0\n", TIMENS_OFFSET);
	if (write(tfd, offs, (size_t)len) != len)
		return timens_report(fd, &r, "write /proc/self/timens_offsets", errno);
	close(tfd);
	if (pipe(p))
		return timens_report(fd, &r, "pipe", errno);
	clock_gettime(CLOCK_MONOTONIC, &ours);
	gc = fork(); /* the first task of the new namespace */
	if (gc < 0)
		return timens_report(fd, &r, "fork", errno);
	if (gc == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		clock_gettime(CLOCK_MONOTONIC, &theirs);
		_exit(kd_write_full(p[1], &theirs, sizeof(theirs)) ? 1 : 0);
	}
	close(p[1]);
	ret = kd_read_full(p[0], &theirs, sizeof(theirs));
	kill(gc, SIGKILL);
	reap_pid(gc);
	if (ret)
		return timens_report(fd, &r, "read the clock of a task in the namespace", -ret);
	r.seen_offset = theirs.tv_sec - ours.tv_sec;
	return timens_report(fd, &r, "", 0);
}

static void probe_timens(struct kerndat *kd)
{
	struct timens_result r;
	struct kd_child c;
	char eb[32];
	int ret;

	ret = kd_child_start(&c, timens_child, NULL);
	if (!ret)
		ret = kd_child_recv(&c, &r, sizeof(r));
	if (ret)
		kd_set(kd, KD_TIMENS, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
	else if (r.err)
		kd_set(kd, KD_TIMENS, KD_MISSING, "%s: %s", r.step,
		       kd_errstr(r.err, eb, sizeof(eb)));
	else if (r.seen_offset < TIMENS_OFFSET || r.seen_offset > TIMENS_OFFSET + 60)
		kd_set(kd, KD_TIMENS, KD_MISSING,
		       "a monotonic offset of %ld s showed as %ld s inside the namespace",
		       TIMENS_OFFSET, r.seen_offset);
	else
		kd_ok(kd, KD_TIMENS);
	kd_child_stop(&c);
}

int kd_probe_proc(struct kerndat *kd)
{
	probe_clone3(kd);
	probe_pidfd(kd);
	probe_process_vm(kd);
	probe_memfd(kd);
	probe_timens(kd);
	return 0;
}
