/* core_fixture: see core_fixture.h. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/rsys.h"
#include "criu-lite/restore/skeleton.h"
#include "images/img.h"

#include "core_fixture.h"
#include "util_fs.h"

void cfx_need_root(void)
{
	if (geteuid() != 0) {
		print_message("skipped: needs root to trace children and create tasks with a "
			      "given pid\n");
		skip();
	}
}

int core_fx_setup(void **state)
{
	struct core_fx *f = calloc(1, sizeof(*f));
	struct img_err err = { 0 };

	if (!f)
		return -1;
	*state = f;
	snprintf(f->log, sizeof(f->log), "/tmp/test_core.%d.log", getpid());
	if (geteuid() != 0)
		return 0; /* every test skips */
	if (kerndat_probe(&f->kd, KD_PROBE_PROC))
		return -1;
	f->dir_path = utest_tmpdir_make("core");
	if (!f->dir_path || img_dir_open(f->dir_path, false, &f->dir, &err))
		return -1;
	return 0;
}

int core_fx_teardown(void **state)
{
	struct core_fx *f = *state;
	int status;

	for (int i = 0; i < f->nr_kids; i++)
		kill(f->kids[i], SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0)
		;
	if (f->dir)
		img_dir_close(f->dir);
	utest_tmpdir_remove(f->dir_path);
	log_fini();
	log_init(NULL, getenv("TEST_CORE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	unlink(f->log);
	free(f);
	return 0;
}

void cfx_track(struct core_fx *f, pid_t pid)
{
	assert_true(f->nr_kids < CFX_MAX_CHILDREN);
	f->kids[f->nr_kids++] = pid;
}

int cfx_dump(struct core_fx *f, struct seized_task *st, CoreEntry **core)
{
	struct dump_shared sh = { .o = &f->o, .dir = f->dir, .kd = f->kd };
	struct dump_ctx c = { .sh = &sh, .pid = st->pid, .vpid = st->pid };
	struct img_err err = { 0 };
	int ret;

	*core = NULL;
	c.st = *st;
	/* no PID namespace of its own: the images keep host tids */
	c.vtid = calloc(st->nr, sizeof(*c.vtid));
	assert_non_null(c.vtid);
	for (size_t k = 0; k < st->nr; k++)
		c.vtid[k] = st->thr[k].tid;
	assert_int_equal(proc_parse_stat(c.pid, &c.stat), 0);
	assert_int_equal(proc_parse_status(c.pid, &c.status), 0);
	assert_int_equal(rsys_open(c.pid, &c.rs), 0);
	c.rs_open = true;
	ret = dump_core(&c);
	assert_int_equal(rsys_close(&c.rs), 0);
	proc_status_free(&c.status);
	free(c.vtid);
	if (!ret) {
		assert_int_equal(
		    img_read_one(f->dir, IMG_CORE, c.pid, (ProtobufCMessage **)core, &err), 0);
		assert_non_null(*core);
	}
	return ret;
}

/* Every mapping of ours: the skeleton is a fork of this process. */
static void self_ranges(uint64_t **ranges, size_t *nr)
{
	char line[512];
	unsigned long s, e;
	size_t n = 0, cap = 64;
	uint64_t *r = malloc(cap * 2 * sizeof(*r));
	FILE *fp = fopen("/proc/self/maps", "r");

	assert_non_null(r);
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (n == cap) {
			cap *= 2;
			r = realloc(r, cap * 2 * sizeof(*r));
			assert_non_null(r);
		}
		r[2 * n] = s;
		r[2 * n + 1] = e;
		n++;
	}
	fclose(fp);
	*ranges = r;
	*nr = n;
}

void cfx_skeleton(struct core_fx *f, pid_t pid, CoreEntry *core, struct restore_task *t)
{
	uint64_t *ranges, hole;
	size_t nr;

	memset(t, 0, sizeof(*t));
	t->pid = t->vpid = pid;
	t->core = core;
	t->cwd_fd = t->root_fd = -1;
	self_ranges(&ranges, &nr);
	assert_int_equal(skel_find_hole(ranges, nr, SKEL_TRAMP_SIZE, &hole), 0);
	free(ranges);
	assert_int_equal(skel_create(&pid, 1, 0, hole, &t->sk), 0);
	cfx_track(f, t->sk.pid);
	assert_int_equal(t->sk.pid, pid);
	assert_int_equal(seize_task(pid, SEIZE_EXITKILL, &t->st), 0);
	assert_int_equal(rsys_open_at(pid, t->sk.tramp, &t->rs), 0);
	t->rs_open = true;
}

void cfx_kill(struct seized_task *st, pid_t pid)
{
	int status;

	if (st && st->thr) {
		assert_int_equal(seize_release(st, RELEASE_KILL), 0);
		return;
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, __WALL), pid);
}

long cfx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p ? p[2] : 0;
}

bool cfx_wait_syscall(pid_t pid, long nr, int timeout_ms)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (long end = cfx_now_ms() + timeout_ms; cfx_now_ms() < end; usleep(2000)) {
		int fd = open(path, O_RDONLY);
		int n = fd >= 0 ? (int)read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (buf[0] != 'r' && strtol(buf, NULL, 10) == nr && proc_state(pid) == 'S')
				return true;
		}
	}
	return false;
}

bool cfx_log_has(const char *path, const char *s)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	return strstr(buf, s) != NULL;
}

/* The value of a /proc/PID/status line ("Uid"), blanks squeezed to single spaces. */
void cfx_status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[512];
	size_t kl = strlen(key);
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	out[0] = 0;
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, key, kl) || line[kl] != ':')
			continue;
		size_t o = 0;

		for (char *p = line + kl + 1; *p && *p != '\n' && o + 1 < len; p++) {
			if (*p == '\t' || *p == ' ') {
				if (o && out[o - 1] != ' ')
					out[o++] = ' ';
			} else {
				out[o++] = *p;
			}
		}
		while (o && out[o - 1] == ' ')
			o--;
		out[o] = 0;
	}
	fclose(fp);
}

uint64_t cfx_status_hex(pid_t pid, const char *key)
{
	char v[128];

	cfx_status_field(pid, key, v, sizeof(v));
	return strtoull(v, NULL, 16);
}
