/* mm_prctl00: the switches of an address space that belong to no VMA survive checkpoint/
 * restore, in a tree of three tasks that each set them their own way: PR_SET_THP_DISABLE
 * (plain, and with PR_THP_DISABLE_EXCEPT_ADVISED), PR_SET_MEMORY_MERGE, PR_SET_MDWE,
 * mlockall(MCL_FUTURE) and mlockall(MCL_FUTURE | MCL_ONFAULT), and /proc/self/coredump_filter.
 * After the restore each task reads them back (prctl getters, the file) and they are what they
 * were; and they still act: a mapping made after the restore comes locked (VmFlags lo, and lf
 * for MCL_ONFAULT) or mergeable (mg) as before, and under MDWE mprotect(PROT_EXEC) on it is
 * refused (EACCES). A switch this kernel lacks (EINVAL) is left off and said so.
 *
 *        0  THP disabled, mlockall(MCL_FUTURE), coredump_filter 0x23
 *       / \
 *      1   2  1: THP disabled except advised, merge any, MDWE, MCL_FUTURE|MCL_ONFAULT, 0x7f
 *             2: all back off (THP enabled again), coredump_filter 0x33
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE		 65
#define PR_GET_MDWE		 66
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

#define NTASKS 3
#define PG     4096

struct sw {
	long thp, merge, mdwe;
	int mlock; /* mlockall() flags, 0: none */
	unsigned coredump;
};

static const int parent[NTASKS] = { -1, 0, 0 };
static const struct sw want[NTASKS] = {
	{ .thp = 1, .mlock = MCL_FUTURE, .coredump = 0x23 },
	{ .thp = 1 | PR_THP_DISABLE_EXCEPT_ADVISED,
	  .merge = 1,
	  .mdwe = PR_MDWE_REFUSE_EXEC_GAIN,
	  .mlock = MCL_FUTURE | MCL_ONFAULT,
	  .coredump = 0x7f },
	{ .coredump = 0x33 },
};

/* what this task holds once set up (each task has its own copy after the fork) */
static struct sw have;

static long getter(int op)
{
	long r = prctl(op, 0, 0, 0, 0);

	return r < 0 && errno == EINVAL ? 0 : r;
}

static int read_coredump_filter(unsigned *v)
{
	size_t len;
	char *s = test_read_file("/proc/self/coredump_filter", &len);

	if (!s)
		return -1;
	*v = (unsigned)strtoul(s, NULL, 16);
	free(s);
	return 0;
}

/* The VmFlags of the mapping at a, into out. */
static int vmflags_of(const void *a, char *out, size_t len)
{
	size_t n;
	char *s = test_read_file("/proc/self/smaps", &n), *line, *save;
	char hdr[32];
	int in = 0, ret = -1;

	if (!s)
		return -1;
	snprintf(hdr, sizeof(hdr), "%lx-", (unsigned long)a);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, hdr, strlen(hdr)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			ret = 0;
			break;
		}
	}
	free(s);
	return ret;
}

static int has_flag(const char *flags, const char *f)
{
	char pat[8];

	snprintf(pat, sizeof(pat), " %s ", f);
	return strstr(flags, pat) != NULL;
}

static int set_switches(int idx, char *why, size_t len)
{
	const struct sw *w = &want[idx];
	char buf[16];
	int fd, n;

	if (prctl(PR_SET_THP_DISABLE, w->thp & 1, w->thp & PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0)) {
		if (errno != EINVAL || !(w->thp & PR_THP_DISABLE_EXCEPT_ADVISED)) {
			snprintf(why, len, "PR_SET_THP_DISABLE %#lx: %s", w->thp, strerror(errno));
			return -1;
		}
		test_msg("task %d: no PR_THP_DISABLE_EXCEPT_ADVISED here: plain THP disable", idx);
		prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	}
	if (w->merge && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
		test_msg("task %d: PR_SET_MEMORY_MERGE: %s: left off", idx, strerror(errno));
	if (w->mdwe && prctl(PR_SET_MDWE, w->mdwe, 0, 0, 0))
		test_msg("task %d: PR_SET_MDWE: %s: left off", idx, strerror(errno));
	if (w->mlock && mlockall(w->mlock)) {
		snprintf(why, len, "mlockall(%#x): %s", w->mlock, strerror(errno));
		return -1;
	}
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	n = snprintf(buf, sizeof(buf), "%#x", w->coredump);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		snprintf(why, len, "write coredump_filter: %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* The switches as the kernel shows them; a new mapping tells the mlockall() ones. */
static int read_switches(struct sw *s, char *why, size_t len)
{
	char flags[256];
	void *a;

	s->thp = getter(PR_GET_THP_DISABLE);
	s->merge = getter(PR_GET_MEMORY_MERGE);
	s->mdwe = getter(PR_GET_MDWE);
	if (s->thp < 0 || s->merge < 0 || s->mdwe < 0 || read_coredump_filter(&s->coredump)) {
		snprintf(why, len, "reading the switches: %s", strerror(errno));
		return -1;
	}
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || vmflags_of(a, flags, sizeof(flags))) {
		snprintf(why, len, "VmFlags of a new mapping: %s", strerror(errno));
		return -1;
	}
	strcat(flags, " ");
	s->mlock =
	    (has_flag(flags, "lo") ? MCL_FUTURE : 0) | (has_flag(flags, "lf") ? MCL_ONFAULT : 0);
	if (!!s->merge != has_flag(flags, "mg")) {
		snprintf(why, len,
			 "PR_GET_MEMORY_MERGE is %ld but a new mapping shows VmFlags '%s'",
			 s->merge, flags);
		return -1;
	}
	/* MDWE at work: no write+exec, and no exec gained by mprotect */
	if (s->mdwe && (!mprotect(a, PG, PROT_READ | PROT_EXEC) || errno != EACCES)) {
		snprintf(why, len, "under MDWE %#lx, mprotect(PROT_EXEC) of a new mapping: %s",
			 s->mdwe, errno == EACCES ? "succeeded" : strerror(errno));
		return -1;
	}
	munmap(a, PG);
	return 0;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	if (set_switches(idx, why, len) || read_switches(&have, why, len))
		return -1;
	if (have.thp != want[idx].thp || have.mlock != want[idx].mlock ||
	    have.coredump != want[idx].coredump)
		test_msg("task %d: THP %#lx mlockall %#x coredump_filter %#x, asked %#lx %#x %#x",
			 idx, have.thp, have.mlock, have.coredump, want[idx].thp, want[idx].mlock,
			 want[idx].coredump);
	return 0;
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	struct sw now;

	(void)tr;
	(void)idx;
	if (read_switches(&now, why, len))
		return -1;
	if (now.thp != have.thp || now.merge != have.merge || now.mdwe != have.mdwe ||
	    now.mlock != have.mlock || now.coredump != have.coredump) {
		snprintf(why, len,
			 "after restore: THP disable %#lx, merge any %ld, MDWE %#lx, mlockall "
			 "%#x, coredump_filter %#x; before: %#lx, %ld, %#lx, %#x, %#x",
			 now.thp, now.merge, now.mdwe, now.mlock, now.coredump, have.thp,
			 have.merge, have.mdwe, have.mlock, have.coredump);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .check = check
	};

	if (test_init(argc, argv) || test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
