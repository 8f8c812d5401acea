/* flavor-snapshot: a live snapshot (docs/snapshot.md). The test is dumped with `dump
 * --leave-running --snapshot`: frozen only while its state is saved and its memory
 * write-protected, then running on while its memory is copied. Afterwards it must run free,
 * untraced, with nothing of criu-lite's left in it (no userfaultfd, no `uw` VmFlags: the
 * snapshot's userfaultfd lived only in criu-lite); it is then killed and restored from the
 * snapshot as flavor h restores, and must check out as it was at the freeze. --stats-file
 * snapshot.json must show the memory copied while the tree ran (snapshot_pages). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desc.h"
#include "flavor-h.h"
#include "flavor.h"
#include "fs.h"
#include "proc.h"
#include "ptree.h"
#include "statskeys.h"
#include "testrun.h"

/* Nothing of the snapshot is left in the tree's tasks: no userfaultfd among their fds, no
 * userfaultfd registration among their VmFlags. NULL, or what was found. */
static const char *leftover(pid_t pid, char *why, size_t len)
{
	char path[64], line[256], link[128];
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char fp[340];
		ssize_t n;

		snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
		n = readlink(fp, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, strstr(link, "userfaultfd"))) {
			snprintf(why, len, "pid %d holds a userfaultfd at fd %s", pid, de->d_name);
			closedir(d);
			return why;
		}
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmFlags:", 8) && strstr(line, " uw")) {
			snprintf(why, len,
				 "pid %d has a VMA still registered for userfaultfd "
				 "write-protection: %s",
				 pid, line);
			fclose(f);
			return why;
		}
	if (f)
		fclose(f);
	return NULL;
}

static int snapshot_checkpoint(struct test_run *t)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/dump.log", t->dir);
	char *stats = strf("%s/snapshot.json", t->dir);
	char *argv[14 + DESC_CRIU_ARGS] = {
		t->opts->criu, "dump",	       "-t", pid,   "-D",
		t->images,     "-o",	       log,  "-v4", "--leave-running",
		"--snapshot",  "--stats-file", stats
	};
	pid_t tree[PTREE_MAX];
	char why[512];
	int ret, n;

	desc_criu_args(t->desc, argv, 13, true);
	ret = h_run_criu(t, "dump", argv, NULL);
	n = ret ? 0 : ptree_procs(t->pid, tree, PTREE_MAX);
	for (int i = 0; i < n && !ret; i++)
		if (leftover(tree[i], why, sizeof(why))) {
			run_why(t, "after the snapshot: %s; see dump.log", why);
			ret = -ECANCELED;
		}
	if (!ret && stats_key(t, "snapshot.json", "snapshot_pages") <= 0) {
		run_why(t, "snapshot.json: no page was copied while the tree ran (snapshot_pages)");
		ret = -ECANCELED;
	}
	if (!ret)
		ret = h_left_running(t);
	free(pid);
	free(log);
	free(stats);
	return ret;
}

static int snapshot_restore(struct test_run *t)
{
	return h_restore_with(t, NULL);
}

const struct flavor flavor_snapshot = {
	.name = "snapshot",
	.help = "dump --leave-running --snapshot (memory copied while the test runs), the test "
		"killed, then restored as h",
	.prepare = h_prepare,
	.checkpoint = snapshot_checkpoint,
	.restore = snapshot_restore,
	.exit_status = h_exit_status,
	.cleanup = h_cleanup,
};
