/* dump-checks: kernel state of a task that the dump does not record and that would come back
 * different, so the dump refuses it, naming the task (docs/core.md lists the class).
 *
 * Contract: dump_checks() returns 0 when task c has none of it, else -ENOTSUP after one
 * message: a time namespace other than criu-lite's (its clock offsets are not dumped), or
 * another one for its children (/proc/PID/ns/time_for_children differs from ns/time). Tracers and
 * tracees are refused by seize (a traced task can't be seized), pending trap signals by dump-core.
 */
#include <stdio.h>
#include <sys/stat.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"

static int ns_ino(pid_t pid, const char *ns, ino_t *ino)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, &st)) {
		if (errno == ENOENT)
			return -ENOENT; /* no time namespaces in this kernel */
		pr_perror("can't stat %s", path);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

static int check_timens(const struct dump_ctx *c)
{
	ino_t self, mine, kids;
	int ret = ns_ino(0, "time", &self);

	if (ret == -ENOENT)
		return 0;
	if (!ret)
		ret = ns_ino(c->pid, "time", &mine);
	if (!ret)
		ret = ns_ino(c->pid, "time_for_children", &kids);
	if (ret)
		return ret;
	if (mine != self) {
		pr_err("pid %d lives in a time namespace of its own (unshare CLONE_NEWTIME): its "
		       "clock offsets are not dumped\n",
		       c->pid);
		return -ENOTSUP;
	}
	if (kids != mine) {
		pr_err("pid %d creates its children in a time namespace of their own (unshare "
		       "CLONE_NEWTIME): time namespaces are not dumped\n",
		       c->pid);
		return -ENOTSUP;
	}
	return 0;
}

int dump_checks(const struct dump_ctx *c)
{
	return c->zombie ? 0 : check_timens(c);
}
