/* needs: see needs.h. Each check looks at the machine as it is now. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "needs.h"

struct need {
	const char *name;
	/* 0 if met; else writes why not into buf */
	int (*check)(char *buf, size_t len);
};

static int need_root(char *buf, size_t len)
{
	if (geteuid() == 0)
		return 0;
	snprintf(buf, len, "root (euid is %d)", (int)geteuid());
	return -1;
}

static int need_zram(char *buf, size_t len)
{
	if (access("/sys/class/zram-control", F_OK) == 0)
		return 0;
	snprintf(buf, len, "zram (no /sys/class/zram-control: modprobe zram?)");
	return -1;
}

static int need_uffd(char *buf, size_t len)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(buf, len, "userfaultfd (%s)", strerror(errno));
	return -1;
}

static const struct need needs[] = {
	{ "root", need_root },
	{ "zram", need_zram },
	{ "uffd", need_uffd },
};

#define NR_NEEDS (sizeof(needs) / sizeof(needs[0]))

int needs_parse(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < NR_NEEDS; i++) {
			if (strlen(needs[i].name) == len && !strncmp(needs[i].name, p, len))
				break;
		}
		if (i == NR_NEEDS)
			return -EINVAL;
		*mask |= 1u << i;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

const char *needs_unmet(unsigned mask, char *buf, size_t len)
{
	for (size_t i = 0; i < NR_NEEDS; i++) {
		if ((mask & (1u << i)) && needs[i].check(buf, len))
			return buf;
	}
	return NULL;
}

void needs_names(unsigned mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NR_NEEDS && n < len; i++) {
		if (mask & (1u << i))
			n +=
			    (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", needs[i].name);
	}
}
