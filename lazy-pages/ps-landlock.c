/* ps-landlock: see ps-landlock.h. The kernel's own interface (three system calls, a few flag
 * words): no Debian library wraps it, and what it needs here fits in this file. The installed
 * uapi header may be older than the running kernel, so the newer flags and the ruleset
 * attribute's later fields are spelled out here, and only those the kernel's ABI version knows
 * are asked for. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lazy-pages/ps-landlock.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule	    445
#define SYS_landlock_restrict_self  446
#endif

#define FS_V1		    ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define FS_REFER	    (1ULL << 13)       /* ABI 2 */
#define FS_TRUNCATE	    (1ULL << 14)       /* ABI 3 */
#define FS_IOCTL_DEV	    (1ULL << 15)       /* ABI 5 */
#define NET_BIND_TCP	    (1ULL << 0)	       /* ABI 4 */
#define NET_CONNECT_TCP	    (1ULL << 1)	       /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)	       /* ABI 6 */
#define SCOPE_SIGNAL	    (1ULL << 1)	       /* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix of it */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static int add_path(int rs, int fd, uint64_t access)
{
	struct landlock_path_beneath_attr a = { .allowed_access = access, .parent_fd = fd };

	return syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &a, 0) ? -errno : 0;
}

int ps_landlock_abi(void)
{
	int abi =
	    (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : abi;
}

int ps_landlock_enter(int imgfd, bool push, struct img_err *err)
{
	int abi = ps_landlock_abi();
	struct ruleset_attr attr = { .handled_access_fs = FS_V1 };
	uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, write;
	size_t size = sizeof(attr.handled_access_fs);
	int rs, cpu, ret;

	if (abi == -ENOSYS || abi == -EOPNOTSUPP) {
		img_fail(err, -abi, "Landlock: not in this kernel or not enabled (%s)",
			 strerror(-abi));
		return 1;
	}
	if (abi < 0)
		return img_fail(err, -abi, "Landlock: can't ask its version: %s", strerror(-abi));
	if (abi >= 2)
		attr.handled_access_fs |= FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
		size = offsetof(struct ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	write = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
		LANDLOCK_ACCESS_FS_REMOVE_FILE | (abi >= 3 ? FS_TRUNCATE : 0);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return img_fail(err, errno, "Landlock: can't make a ruleset (ABI %d): %s", abi,
				strerror(errno));
	ret = add_path(rs, imgfd, read | (push ? write : 0));
	if (ret) {
		close(rs);
		return img_fail(err, -ret, "Landlock: can't allow the image directory: %s",
				strerror(-ret));
	}
	cpu = open("/sys/devices/system/cpu/online", O_PATH | O_CLOEXEC);
	if (cpu >= 0) { /* no such file: nothing to allow */
		ret = add_path(rs, cpu, LANDLOCK_ACCESS_FS_READ_FILE);
		close(cpu);
		if (ret) {
			close(rs);
			return img_fail(err, -ret, "Landlock: can't allow %s: %s",
					"/sys/devices/system/cpu/online", strerror(-ret));
		}
	}
	ret = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0)
		  ? -errno
		  : 0;
	close(rs);
	if (ret)
		return img_fail(err, -ret, "Landlock: can't confine the page server: %s",
				strerror(-ret));
	return 0;
}
