/* flavor-remote: see flavor-remote.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "flavor-h.h"
#include "flavor-remote.h"
#include "fs.h"
#include "hosts.h"
#include "proc.h"
#include "testrun.h"

static int write_key(struct test_run *t)
{
	unsigned char key[32];
	int fd;

	t->keyfile = strf("%s/auth.key", t->dir);
	fd = open(t->keyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || getrandom(key, sizeof(key), 0) != sizeof(key) ||
	    write(fd, key, sizeof(key)) != sizeof(key)) {
		run_why(t, "can't write the key %s: %s", t->keyfile, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int remote_prepare(struct test_run *t)
{
	char why[512], *log;
	int ret = h_prepare(t);

	if (ret)
		return ret;
	log = strf("%s/hosts.log", t->dir);
	ret = hosts_up(&t->hosts, log, t->deadline, why, sizeof(why));
	free(log);
	if (ret) {
		run_why(t, "can't make the hosts: %s", why);
		return ret;
	}
	return write_key(t);
}

/* B's image directory (t->rimages, made): every file of A's but the pages files. */
static int copy_images(struct test_run *t)
{
	DIR *d = opendir(t->images);
	struct dirent *de;
	int ret = 0;

	if (!d || mkdir(t->rimages, 0700)) {
		run_why(t, "can't make %s from %s: %s", t->rimages, t->images, strerror(errno));
		if (d)
			closedir(d);
		return -EIO;
	}
	while (!ret && (de = readdir(d))) {
		char *from, *to;
		struct stat st;
		int in, out;

		if (de->d_name[0] == '.' || !strncmp(de->d_name, "pages-", 6))
			continue;
		from = strf("%s/%s", t->images, de->d_name);
		to = strf("%s/%s", t->rimages, de->d_name);
		in = open(from, O_RDONLY | O_CLOEXEC);
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (in < 0 || out < 0 || fstat(in, &st) ||
		    (S_ISREG(st.st_mode) &&
		     sendfile(out, in, NULL, (size_t)st.st_size) != st.st_size)) {
			run_why(t, "can't copy %s to %s: %s", from, to, strerror(errno));
			ret = -EIO;
		}
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		free(from);
		free(to);
	}
	closedir(d);
	return ret;
}

/* The source's dump: started in A, and its images complete (inventory.img is written last),
 * or its end: 0, or -errno after run_why(). */
int remote_migrate_from(struct test_run *t, const char *prev)
{
	const struct timespec nap = { 0, 10 * 1000 * 1000 };
	char *pid = strf("%d", t->pid), *log = strf("%s/dump.log", t->dir);
	char *out = strf("%s/dump.out", t->dir), *inv = strf("%s/inventory.img", t->images);
	char *stats = strf("%s/dump.json", t->dir);
	char *argv[21 + DESC_CRIU_ARGS] = {
		t->opts->criu, "dump",	       "-t",	 pid,	      "-D",
		t->images,     "-o",	       log,	 "-v4",	      "--lazy-pages",
		"--address",   HOST_A_ADDR,    "--port", REMOTE_PORT, "--auth-key",
		t->keyfile,    "--stats-file", stats,	 NULL
	};
	char ns[96];
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = out, .netns = ns };
	int ret = 0, status, n = 18;

	if (prev) {
		argv[n++] = "--prev-images-dir";
		argv[n++] = (char *)prev;
	}
	desc_criu_args(t->desc, argv, n, true);
	/* B's directory: beside the chain's there (b/preK, b/images) when there is one, so the
	 * parent the images name (../preK) is B's */
	t->rimages = prev ? strf("%s/b/images", t->dir) : strf("%s/remote-images", t->dir);
	hosts_path(&t->hosts, false, ns, sizeof(ns));
	t->srcpid = t->pid;
	t->psd = spawn(&req);
	if (t->psd < 0) {
		run_why(t, "can't start the source's dump: %s", strerror(-t->psd));
		ret = t->psd;
		t->psd = 0;
	}
	while (!ret && access(inv, F_OK)) {
		if (waitpid(t->psd, &status, WNOHANG) == t->psd) {
			char st[64];

			status_str(status, st, sizeof(st));
			t->psd = 0;
			run_why(t,
				"dump --lazy-pages of pid %d ended (%s) before its images were "
				"complete; see dump.log",
				t->srcpid, st);
			ret = -ECANCELED;
		} else if (now_s() >= t->deadline) {
			run_why(t, "dump --lazy-pages of pid %d: no images within the time limit",
				t->srcpid);
			ret = -ETIMEDOUT;
		} else {
			nanosleep(&nap, NULL);
		}
	}
	if (!ret)
		ret = copy_images(t);
	free(pid);
	free(log);
	free(out);
	free(inv);
	free(stats);
	return ret;
}

int remote_migrate(struct test_run *t)
{
	return remote_migrate_from(t, NULL);
}

int remote_page_server(struct test_run *t, const char *dir, bool on_b)
{
	char *pidf = strf("%s/page-server.pid", t->dir);
	char *stats = strf("%s/page-server.json", t->dir);
	char *log = strf("%s/page-server.log", t->dir);
	char *argv[] = { t->opts->criu, "page-server",
			 "-D",		(char *)dir,
			 "--address",	on_b ? HOST_B_ADDR : HOST_A_ADDR,
			 "--port",	REMOTE_PORT,
			 "--auth-key",	t->keyfile,
			 "-d",		"--pidfile",
			 pidf,		"--stats-file",
			 stats,		"-o",
			 log,		"-v4",
			 NULL };
	char ns[96];
	int ret;

	hosts_path(&t->hosts, on_b, ns, sizeof(ns));
	ret = h_run_criu_in(t, "page-server-start", argv, NULL, ns);
	if (!ret && (ret = read_pid(pidf, &t->psd)))
		run_why(t, "page-server -d succeeded, but %s is unusable: %s (errno %d)", pidf,
			strerror(-ret), -ret);
	free(pidf);
	free(stats);
	free(log);
	return ret;
}

int remote_setup(struct test_run *t)
{
	int ret;

	t->rimages = strf("%s/remote-images", t->dir);
	ret = copy_images(t);

	return ret ? ret : remote_page_server(t, t->images, false);
}

void remote_lazy_args(struct test_run *t, char **v)
{
	char *a[] = { "--page-server", "--address",  HOST_A_ADDR, "--port",
		      REMOTE_PORT,     "--auth-key", t->keyfile,  NULL };

	memcpy(v, a, sizeof(a));
}

double remote_json_num(const char *json, const char *key)
{
	char *q = strf("\"%s\": ", key);
	const char *at = json ? strstr(json, q) : NULL;
	double v = at ? strtod(at + strlen(q), NULL) : -1;

	free(q);
	return v;
}

/* remote-lazy: the source's dump exits 0 (B has every page), its tree is gone. */
static int source_done(struct test_run *t)
{
	int status = -1, ret = wait_deadline(t->psd, t->deadline, &status);
	char st[64];

	status_str(status, st, sizeof(st));
	if (!ret)
		t->psd = 0;
	if (ret || status != 0) {
		run_why(t,
			"the source's dump --lazy-pages %s after the destination had every page; "
			"see dump.log",
			ret ? "did not end" : st);
		return ret ? ret : -ECANCELED;
	}
	ret = wait_gone(t->srcpid, t->deadline);
	if (ret)
		run_why(t, "the source tree (pid %d) is still there after the migration",
			t->srcpid);
	return ret;
}

int remote_check(struct test_run *t)
{
	char *lp = strf("%s/lazy-pages.json", t->dir), *ps = strf("%s/page-server.json", t->dir);
	size_t len;
	char *lj = read_file(lp, &len), *pj = NULL, st[64];
	double lazy = remote_json_num(lj, "pages_fault") + remote_json_num(lj, "pages_around") +
		      remote_json_num(lj, "pages_prefetch") +
		      remote_json_num(lj, "shm_pages_fault") +
		      remote_json_num(lj, "shm_pages_prefetch");
	int status = -1, ret = 0;

	if (lazy > 0 && remote_json_num(lj, "remote_bytes") <= 0) {
		run_why(t, "lazy-pages.json: %.0f pages went in lazily, but remote_bytes is %s",
			lazy, lj ? "0" : "missing");
		ret = -ECANCELED;
	}
	if (!ret && t->flavor->migrates)
		ret = source_done(t);
	else if (!ret && kill(t->psd, SIGTERM)) {
		run_why(t, "kill(%d, SIGTERM) (page-server): %s", t->psd, strerror(errno));
		ret = -errno;
	}
	if (!ret && t->flavor == &flavor_ps_lazy) {
		ret = wait_deadline(t->psd, t->deadline, &status);
		status_str(status, st, sizeof(st));
		if (!ret)
			t->psd = 0;
		if (ret || status != 0) {
			run_why(t, "page-server %s on SIGTERM; see page-server.log",
				ret ? "did not stop" : st);
			ret = ret ? ret : -ECANCELED;
		}
	}
	if (!ret && t->flavor == &flavor_ps_lazy &&
	    remote_json_num((pj = read_file(ps, &len)), "sessions") != 1) {
		run_why(t, "page-server.json: sessions is %.0f, expected 1",
			remote_json_num(pj, "sessions"));
		ret = -ECANCELED;
	}
	free(lj);
	free(pj);
	free(lp);
	free(ps);
	return ret;
}

void remote_cleanup(struct test_run *t)
{
	int status;

	if (t->psd > 0) {
		kill_wait(t->psd, &status);
		t->psd = 0;
	}
	hosts_down(&t->hosts);
}
