/* proc-mount: a mount point from /proc/PID/mountinfo, by mount id or by device. See proc.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "criu-lite/proc/proc.h"

char *proc_mount_point(pid_t pid, long mnt, dev_t dev)
{
	char path[64], *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		unsigned int ma, mi;
		char mp[PATH_MAX];
		long id;

		if (sscanf(line, "%ld %*d %u:%u %*s %4095s", &id, &ma, &mi, mp) != 4)
			continue;
		if (mnt >= 0 ? id != mnt : makedev(ma, mi) != dev)
			continue;
		proc_unescape(mp);
		found = strdup(mp);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}
