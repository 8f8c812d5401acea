/* dump-fs: a task's cwd, root and umask (fs-<pid>.img): read from /proc/PID/{cwd,root,status};
 * a deleted cwd is also an entry of files.img (cwd_file: a ghost directory, dump-files.c); a
 * deleted root, or a cwd or root that its path no longer reaches, is refused. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"

/* readlink /proc/PID/<name> of a directory; refuses a moved one, and a deleted one unless
 * *deleted is given (then set, *out without " (deleted)"). */
static int task_dir(pid_t pid, const char *name, char **out, bool *deleted)
{
	char link[64], buf[PATH_MAX];
	struct stat st, ps;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, name);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0 || stat(link, &st)) {
		int e = errno;

		pr_perror("pid %d: can't read its %s (%s)", pid, name, link);
		return -e;
	}
	buf[n] = '\0';
	if (stat(buf, &ps) || ps.st_dev != st.st_dev || ps.st_ino != st.st_ino) {
		size_t l = strlen(buf);

		if (l > 10 && !strcmp(buf + l - 10, " (deleted)") && !st.st_nlink && deleted) {
			*deleted = true;
			buf[l - 10] = '\0';
			*out = strdup(buf);
			return *out ? 0 : -ENOMEM;
		}
		if (l > 10 && !strcmp(buf + l - 10, " (deleted)") && !st.st_nlink)
			pr_err("pid %d: its %s %s was deleted: not supported\n", pid, name, buf);
		else
			pr_err("pid %d: its %s %s can't be found again by that path: not "
			       "supported\n",
			       pid, name, buf);
		return -ENOTSUP;
	}
	*out = strdup(buf);
	if (!*out) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	return 0;
}

/* cwd, root and umask; checked before the fds, written after them. */
int dump_fs_collect(struct dump_ctx *c, FsEntry *fs)
{
	int ret;

	if (c->status.umask < 0) {
		pr_err("pid %d: no Umask in /proc/%d/status\n", c->pid, c->pid);
		return -EINVAL;
	}
	fs->umask = (uint32_t)c->status.umask;
	bool deleted = false;

	ret = task_dir(c->pid, "cwd", &fs->cwd, &deleted);
	if (!ret && deleted) { /* a ghost directory, like an open deleted one (files.img) */
		char link[PATH_MAX];

		snprintf(link, sizeof(link), "%s (deleted)", fs->cwd);
		ret = dump_file_add_cwd(c, link, &fs->cwd_file);
		fs->has_cwd_file = !ret;
	}
	if (!ret)
		ret = task_dir(c->pid, "root", &fs->root, NULL);
	return ret;
}
