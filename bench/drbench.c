/* drbench: dump/restore throughput of criu-lite, as ratios measured in one run.
 *
 * For each size (MiB, arguments; default 64 1024) it starts bench/counter with
 * that much patterned anonymous memory, measures the bandwidth of
 * process_vm_readv from it (the dump's floor) and of process_vm_writev into
 * fresh memory of another process (the restore's floor), then times
 * `criu-lite dump` and `criu-lite restore -d` with images on a private tmpfs,
 * checks that the restored counter still sees its memory intact, and prints
 * times, GB/s and the ratios. With CRIU=path and a working `criu check`, the
 * same dump is timed with criu side by side. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1UL << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char tmpdir[] = "/tmp/drbench-XXXXXX";

/* The tmpfs goes away on every exit path. */
static void unmount_tmp(void)
{
	if (umount(tmpdir) == 0)
		rmdir(tmpdir);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Start `counter MB` with stdout to a file; wait until it printed its first line. */
static pid_t start_counter(const char *counter, size_t mb, const char *out)
{
	char arg[32];
	pid_t pid;

	snprintf(arg, sizeof(arg), "%zu", mb);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		close(fd);
		for (int i = 3; i < 1024; i++)
			close(i);
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
		execl(counter, counter, arg, NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) {
		struct stat st;

		if (stat(out, &st) == 0 && st.st_size > 0)
			return pid;
		usleep(50000);
	}
	fprintf(stderr, "drbench: counter did not start\n");
	exit(1);
}

/* The biggest anonymous rw-p mapping of pid: the counter's memory. */
static int find_region(pid_t pid, uint64_t *start, uint64_t *len)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	*len = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e, off;
		char perms[8];
		int n = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s%n", &s, &e, perms, &off, &n) < 4)
			continue;
		if (strcmp(perms, "rw-p") || line[n + strspn(line + n, " ")] != '\n' ||
		    e - s <= *len)
			continue;
		*start = s;
		*len = e - s;
	}
	fclose(f);
	return *len ? 0 : -1;
}

static double readv_bw(pid_t pid, uint64_t start, uint64_t len)
{
	char *buf = malloc(CHUNK);
	double t0, t;

	memset(buf, 0, CHUNK); /* warm, as the dump's buffer is */
	t0 = now();
	for (uint64_t off = 0; off < len; off += CHUNK) {
		struct iovec l = { buf, CHUNK }, r = { (void *)(start + off), CHUNK };

		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)CHUNK)
			die("process_vm_readv");
	}
	t = now() - t0;
	free(buf);
	return len / t / 1e9;
}

/* Into fresh (never touched) memory of a child, from a warm buffer. */
static double writev_bw(uint64_t len)
{
	char *src = malloc(CHUNK);
	volatile char *dst;
	int go[2];
	double t0, t;
	pid_t child;
	char c;

	memset(src, 0x5a, CHUNK);
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED || pipe(go))
		die("mmap");
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	t0 = now();
	for (uint64_t off = 0; off < len; off += CHUNK) {
		struct iovec l = { src, CHUNK }, r = { (void *)(dst + off), CHUNK };

		if (process_vm_writev(child, &l, 1, &r, 1, 0) != (ssize_t)CHUNK)
			die("process_vm_writev");
	}
	t = now() - t0;
	(void)!write(go[1], "x", 1);
	waitpid(child, NULL, 0);
	munmap((void *)dst, len);
	free(src);
	close(go[0]);
	close(go[1]);
	return len / t / 1e9;
}

/* Writing len bytes into a fresh tmpfs file from a warm buffer: the floor of
 * any dump that writes images (on this VM fresh pages are costly). */
static double tmpfs_bw(const char *dir, uint64_t len)
{
	char path[256], *src = malloc(CHUNK);
	double t0, t;
	int fd;

	memset(src, 0x3c, CHUNK);
	snprintf(path, sizeof(path), "%s/floor", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open floor file");
	t0 = now();
	for (uint64_t off = 0; off < len; off += CHUNK)
		if (write(fd, src, CHUNK) != (ssize_t)CHUNK)
			die("write floor file");
	t = now() - t0;
	close(fd);
	unlink(path);
	free(src);
	return len / t / 1e9;
}

/* "criu" on PATH whose `criu check` passes, or NULL (and why). */
static const char *working_criu(char *why, size_t len)
{
	int rc = system("command -v criu >/dev/null 2>&1");

	if (rc) {
		snprintf(why, len, "no criu binary on PATH");
		return NULL;
	}
	rc = system("criu check >/dev/null 2>&1");
	if (rc) {
		snprintf(why, len, "`criu check` fails on this kernel (exit %d)", WEXITSTATUS(rc));
		return NULL;
	}
	return "criu";
}

static int run(const char *cmd, double *secs)
{
	double t0 = now();
	int rc = system(cmd);

	*secs = now() - t0;
	return rc;
}

static void wait_gone(pid_t pid)
{
	char path[64];

	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	for (int i = 0; i < 200 && access(path, F_OK) == 0; i++)
		usleep(10000);
}

/* Last line of the counter's output says "ok" and the count moved on. */
static int counter_ok(const char *out, long *last)
{
	char line[128], prev[128] = "";
	FILE *f = fopen(out, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		strcpy(prev, line);
	fclose(f);
	*last = atol(prev);
	return strstr(prev, "ok") != NULL;
}

/* Whether the restored counter finishes a checksum pass after the one numbered before, and finds
 * its memory intact: its lines are read until a later one comes (a pass of 1 GiB takes about a
 * second, much more on a loaded machine: up to a minute is waited for, not a fixed time). */
static int counter_next(const char *out, long before, long *after)
{
	for (int i = 0; i < 600; i++) {
		int ok = counter_ok(out, after);

		if (*after > before)
			return ok;
		usleep(100000);
	}
	return 0;
}

static void bench_criu(const char *criu, const char *counter, const char *tmp, size_t mb)
{
	char out[256], dir[256], cmd[1024];
	double td, tr, gb = mb / 1024.0 * 1.073741824;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/criu-counter-%zu.out", tmp, mb);
	snprintf(dir, sizeof(dir), "%s/criu-img-%zu", tmp, mb);
	mkdir(dir, 0700);
	pid = start_counter(counter, mb, out);
	snprintf(cmd, sizeof(cmd), "%s dump -t %d -D %s -o dump.log --shell-job", criu, pid, dir);
	if (run(cmd, &td)) {
		printf("%6zu MiB  criu dump failed (see %s/dump.log)\n", mb, dir);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	wait_gone(pid);
	snprintf(cmd, sizeof(cmd), "%s restore -d -D %s -o restore.log --shell-job", criu, dir);
	if (run(cmd, &tr))
		printf("%6zu MiB  criu dump %7.3f s %6.2f GB/s, restore failed\n", mb, td, gb / td);
	else
		printf("%6zu MiB  criu dump %7.3f s %6.2f GB/s   restore %7.3f s %6.2f GB/s\n", mb,
		       td, gb / td, tr, gb / tr);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Reap every child we have (dumped tasks end up ours: we are a subreaper). */
static void reap_all(void)
{
	for (int i = 0; i < 300; i++) {
		pid_t r = waitpid(-1, NULL, WNOHANG | __WALL);

		if (r < 0 && errno == ECHILD)
			return;
		if (r <= 0)
			usleep(10000);
	}
}

/* Wait for a line starting with prefix in file out (up to secs seconds). */
static int wait_line(const char *out, const char *prefix, double secs)
{
	char line[256];

	for (double t0 = now(); now() - t0 < secs; usleep(20000)) {
		FILE *f = fopen(out, "r");
		int found = 0;

		while (f && fgets(line, sizeof(line), f))
			found |= strncmp(line, prefix, strlen(prefix)) == 0;
		if (f)
			fclose(f);
		if (found)
			return 1;
	}
	return 0;
}

/* The tree case: n tasks with mb MiB each (bench/treeload). */
static int bench_tree(const char *tool, const char *treeload, const char *tmp, int n, int mb)
{
	char out[256], dir[256], cmd[1024], arg_n[16], arg_mb[16];
	double td, tr;
	pid_t pid;
	int ok;

	snprintf(out, sizeof(out), "%s/tree.out", tmp);
	snprintf(dir, sizeof(dir), "%s/img-tree", tmp);
	snprintf(arg_n, sizeof(arg_n), "%d", n);
	snprintf(arg_mb, sizeof(arg_mb), "%d", mb);
	mkdir(dir, 0700);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		setsid();
		execl(treeload, treeload, arg_n, arg_mb, NULL);
		_exit(127);
	}
	if (!wait_line(out, "ready", 60)) {
		fprintf(stderr, "drbench: the tree workload did not start\n");
		kill(-pid, SIGKILL);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "%s dump -t %d -D %s -o %s/dump.log", tool, pid, dir, dir);
	if (run(cmd, &td)) {
		fprintf(stderr, "drbench: tree dump failed; its log ends with:\n");
		snprintf(cmd, sizeof(cmd), "tail -5 %s/dump.log >&2", dir);
		(void)!system(cmd);
		kill(-pid, SIGKILL);
		reap_all();
		return 1;
	}
	reap_all();
	snprintf(cmd, sizeof(cmd), "%s restore -d -D %s -o %s/restore.log", tool, dir, dir);
	if (run(cmd, &tr)) {
		fprintf(stderr, "drbench: tree restore failed; its log ends with:\n");
		snprintf(cmd, sizeof(cmd), "tail -5 %s/restore.log >&2", dir);
		(void)!system(cmd);
		return 1;
	}
	kill(pid, SIGUSR1);
	ok = wait_line(out, "tree ok", 20);
	printf("tree %d tasks x %d MiB  dump %7.3f s   restore %7.3f s (%.1f ms per task)   %s\n",
	       n, mb, td, tr, tr * 1000 / n, ok ? "every task's memory intact" : "CHECK FAILED");
	kill(-pid, SIGKILL);
	reap_all();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return ok ? 0 : 1;
}

static int bench_one(const char *tool, const char *counter, const char *tmp, size_t mb)
{
	char out[256], dir[256], cmd[1024];
	uint64_t start, len;
	double rbw, wbw, fbw, td, tr, gb = mb / 1024.0 * 1.073741824;
	long before, after;
	pid_t pid;
	int ok;

	snprintf(out, sizeof(out), "%s/counter-%zu.out", tmp, mb);
	snprintf(dir, sizeof(dir), "%s/img-%zu", tmp, mb);
	mkdir(dir, 0700);
	pid = start_counter(counter, mb, out);
	if (find_region(pid, &start, &len))
		die("find_region");
	rbw = readv_bw(pid, start, len);
	wbw = writev_bw(len);
	fbw = tmpfs_bw(tmp, len);
	snprintf(cmd, sizeof(cmd), "%s dump -t %d -D %s -o %s/dump.log", tool, pid, dir, dir);
	if (run(cmd, &td)) {
		fprintf(stderr, "drbench: dump failed; its log ends with:\n");
		snprintf(cmd, sizeof(cmd), "tail -5 %s/dump.log >&2", dir);
		(void)!system(cmd);
		kill(pid, SIGKILL);
		return 1;
	}
	wait_gone(pid);
	counter_ok(out, &before);
	snprintf(cmd, sizeof(cmd), "%s restore -d -D %s -o %s/restore.log", tool, dir, dir);
	if (run(cmd, &tr)) {
		fprintf(stderr, "drbench: restore failed; its log ends with:\n");
		snprintf(cmd, sizeof(cmd), "tail -5 %s/restore.log >&2", dir);
		(void)!system(cmd);
		return 1;
	}
	ok = counter_next(out, before, &after);
	if (!ok) {
		fprintf(stderr, "drbench: the restored counter's output (last line before: %ld):\n",
			before);
		snprintf(cmd, sizeof(cmd), "tail -4 %s >&2", out);
		(void)!system(cmd);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("%6zu MiB  dump %7.3f s %5.2f GB/s = %.2f of readv (%5.2f GB/s), %.2f of "
	       "readv+tmpfs write (%5.2f GB/s)\n",
	       mb, td, gb / td, gb / td / rbw, rbw, gb / td / (1 / (1 / rbw + 1 / fbw)),
	       1 / (1 / rbw + 1 / fbw));
	printf("%6s      restore %7.3f s %5.2f GB/s = %.2f of writev into fresh memory (%5.2f "
	       "GB/s)   %s\n",
	       "", tr, gb / tr, gb / tr / wbw, wbw, ok ? "memory intact" : "MEMORY CHECK FAILED");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *tool = getenv("CRIU_LITE") ? getenv("CRIU_LITE") : "criu-lite/criu-lite";
	const char *counter = getenv("COUNTER") ? getenv("COUNTER") : "build/bench/counter";
	const char *treeload = getenv("TREELOAD") ? getenv("TREELOAD") : "build/bench/treeload";
	char *tmp = tmpdir;
	int rc = 0;

	if (geteuid()) {
		fprintf(stderr, "drbench: needs root\n");
		return 1;
	}
	if (!mkdtemp(tmp) || mount("drbench", tmp, "tmpfs", 0, "size=8g"))
		die("tmpfs for the images");
	atexit(unmount_tmp);
	/* restored counters are reparented to us: reap them at once */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	char why[128];
	const char *criu = working_criu(why, sizeof(why));

	printf("criu-lite dump/restore, images on tmpfs; ratios against the same run's "
	       "process_vm_readv/writev bandwidth\n");
	if (!criu)
		printf("criu side by side: skipped, %s\n", why);
	size_t dflt[] = { 64, 1024 };
	int n = argc > 1 ? argc - 1 : 2;

	for (int i = 0; i < n; i++) {
		size_t mb = argc > 1 ? strtoul(argv[i + 1], NULL, 0) : dflt[i];

		rc |= bench_one(tool, counter, tmp, mb);
		if (criu)
			bench_criu(criu, counter, tmp, mb);
	}
	if (argc < 2)
		rc |= bench_tree(tool, treeload, tmp, 100, 8);
	return rc;
}
