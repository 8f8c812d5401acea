/* proc-stat: /proc/PID/stat -> struct proc_stat (see proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

#define STAT_FIELDS 52 /* as of Linux 3.5 and still in 6.18 */

enum stat_type { ST_I32, ST_U32, ST_I64, ST_U64 };

#define F(field, type)                                  \
	{                                               \
		offsetof(struct proc_stat, field), type \
	}

/* Fields 4..52, in order. */
static const struct {
	size_t off;
	enum stat_type type;
} stat_fields[STAT_FIELDS - 3] = {
	F(ppid, ST_I32),	F(pgrp, ST_I32),	F(session, ST_I32),
	F(tty_nr, ST_I32),	F(tpgid, ST_I32),	F(flags, ST_U32),
	F(minflt, ST_U64),	F(cminflt, ST_U64),	F(majflt, ST_U64),
	F(cmajflt, ST_U64),	F(utime, ST_U64),	F(stime, ST_U64),
	F(cutime, ST_I64),	F(cstime, ST_I64),	F(priority, ST_I64),
	F(nice, ST_I64),	F(num_threads, ST_I64), F(itrealvalue, ST_I64),
	F(starttime, ST_U64),	F(vsize, ST_U64),	F(rss, ST_I64),
	F(rsslim, ST_U64),	F(start_code, ST_U64),	F(end_code, ST_U64),
	F(start_stack, ST_U64), F(kstkesp, ST_U64),	F(kstkeip, ST_U64),
	F(signal, ST_U64),	F(blocked, ST_U64),	F(sigignore, ST_U64),
	F(sigcatch, ST_U64),	F(wchan, ST_U64),	F(nswap, ST_U64),
	F(cnswap, ST_U64),	F(exit_signal, ST_I32), F(processor, ST_I32),
	F(rt_priority, ST_U32), F(policy, ST_U32),	F(delayacct_blkio_ticks, ST_U64),
	F(guest_time, ST_U64),	F(cguest_time, ST_I64), F(start_data, ST_U64),
	F(end_data, ST_U64),	F(start_brk, ST_U64),	F(arg_start, ST_U64),
	F(arg_end, ST_U64),	F(env_start, ST_U64),	F(env_end, ST_U64),
	F(exit_code, ST_I32),
};

#undef F

static bool parse_field(const char **p, const char *e, enum stat_type type, void *dst)
{
	uint64_t u;
	int64_t s;

	switch (type) {
	case ST_I32:
		if (!sp_s64_range(p, e, INT_MIN, INT_MAX, &s))
			return false;
		*(int32_t *)dst = (int32_t)s;
		return true;
	case ST_U32:
		if (!sp_u64_range(p, e, 10, UINT_MAX, &u))
			return false;
		*(uint32_t *)dst = (uint32_t)u;
		return true;
	case ST_I64:
		return sp_s64(p, e, dst);
	case ST_U64:
		return sp_u64(p, e, 10, dst);
	}
	return false;
}

/* "PID (COMM) S f4 f5 ... f52\n"; COMM is raw and may hold ')', so it ends at the last ')'. */
int proc_parse_stat_buf(const char *name, const char *buf, size_t len, struct proc_stat *out)
{
	const char *p = buf, *e = buf + len, *rp;
	struct ptext t;
	int64_t pid;
	size_t clen;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	t.lineno = 1;
	if (memchr(buf, '\0', len))
		return pt_fail(&t, "NUL byte in the file");
	if (!sp_s64_range(&p, e, 1, INT_MAX, &pid) || !sp_lit(&p, e, " ("))
		return pt_fail(&t, "bad pid");
	out->pid = (pid_t)pid;
	for (rp = e; rp > p && rp[-1] != ')'; rp--)
		;
	if (rp == p)
		return pt_fail(&t, "no ')' closing the command name");
	rp--;
	clen = rp - p;
	if (clen >= sizeof(out->comm))
		return pt_fail(&t, "command name of %zu bytes is too long", clen);
	memcpy(out->comm, p, clen);
	p = rp + 1;
	if (e - p < 3 || p[0] != ' ' || p[2] != ' ' ||
	    !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
		return pt_fail(&t, "bad state after the command name");
	out->state = p[1];
	p += 2;
	for (int i = 0; i < STAT_FIELDS - 3; i++) {
		if (!sp_lit(&p, e, " ") ||
		    !parse_field(&p, e, stat_fields[i].type, (char *)out + stat_fields[i].off))
			return pt_fail(&t, "bad field %d", i + 4);
	}
	/* fields of a newer kernel are numbers too */
	for (int i = STAT_FIELDS + 1; sp_lit(&p, e, " "); i++) {
		int64_t ign;

		if (!sp_s64(&p, e, &ign))
			return pt_fail(&t, "bad field %d", i);
	}
	if (!sp_lit(&p, e, "\n") || p != e)
		return pt_fail(&t, "junk or no newline after the last field");
	return 0;
}

static int parse_stat(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_stat_buf(name, buf, len, out);
}

static int read_and_parse(const char *path, struct proc_stat *out)
{
	memset(out, 0, sizeof(*out));
	return proc_read_parse(path, parse_stat, out);
}

int proc_parse_stat_at(const char *path, struct proc_stat *out)
{
	return read_and_parse(path, out);
}

int proc_parse_stat(pid_t pid, struct proc_stat *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return read_and_parse(path, out);
}

int proc_parse_task_stat(pid_t pid, pid_t tid, struct proc_stat *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	return read_and_parse(path, out);
}

/* Quietly read /proc/PID/stat (tid 0) or /proc/PID/task/TID/stat into buf, NUL-terminated,
 * and find the ") " that ends comm: its position, or NULL with *err set. */
static char *read_stat_quiet(pid_t pid, pid_t tid, char *buf, size_t len, int *err)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		*err = e == ESRCH ? -ENOENT : -e;
		return NULL;
	}
	close(fd);
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		*err = -EINVAL;
		return NULL;
	}
	return p;
}

int proc_task_state(pid_t pid, pid_t tid, char *state)
{
	char buf[512], *p;
	int err = 0;

	p = read_stat_quiet(pid, tid, buf, sizeof(buf), &err);
	if (!p)
		return err;
	*state = p[2];
	return 0;
}

int proc_task_brief(pid_t pid, char *state, pid_t *ppid, char *comm, size_t len)
{
	char buf[512], *p, *open_paren;
	int err = 0;

	p = read_stat_quiet(pid, 0, buf, sizeof(buf), &err);
	if (!p)
		return err;
	open_paren = strchr(buf, '(');
	if (!open_paren || open_paren > p || sscanf(p + 2, "%c %d", state, ppid) != 2)
		return -EINVAL;
	snprintf(comm, len, "%.*s", (int)(p - open_paren - 1), open_paren + 1);
	return 0;
}

void proc_pid_holder(pid_t pid, char *buf, size_t len)
{
	char state, comm[64], pcomm[64] = "?";
	pid_t ppid;

	if (proc_task_brief(pid, &state, &ppid, comm, sizeof(comm))) {
		snprintf(buf, len, "a task that our /proc does not show holds it");
		return;
	}
	if (ppid > 0 && proc_task_brief(ppid, &(char){ 0 }, &(pid_t){ 0 }, pcomm, sizeof(pcomm)))
		snprintf(pcomm, sizeof(pcomm), "?");
	if (state == 'Z')
		snprintf(buf, len, "a zombie holds it (%s), not reaped by its parent %d (%s)", comm,
			 ppid, pcomm);
	else
		snprintf(buf, len, "a live task holds it (%s, state %c, parent %d %s)", comm, state,
			 ppid, pcomm);
}
