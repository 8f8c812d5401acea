/* proc-locks: one "lock:" line of /proc/PID/fdinfo/N -> struct proc_lock (see proc-locks.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-locks.h"
#include "criu-lite/proc/proc-util.h"

#define BLANKS " \t"

/* The next blank-separated word as [*w, *we); false at the end. */
static bool word(const char **p, const char *end, const char **w, const char **we)
{
	sp_skip(p, end, BLANKS);
	*w = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	*we = *p;
	return *we > *w;
}

static bool is(const char *w, const char *we, const char *s)
{
	return (size_t)(we - w) == strlen(s) && memcmp(w, s, we - w) == 0;
}

static int bad(const char *name, const char *value, const char *what)
{
	pr_err("%s: unexpected lock line \"%s\": %s\n", name, value, what);
	return -EINVAL;
}

/* "MAJ:MIN:INO" (hex, hex, decimal) */
static bool dev_ino(const char *w, const char *we, uint64_t *ino)
{
	uint64_t x;

	return sp_u64(&w, we, 16, &x) && sp_lit(&w, we, ":") && sp_u64(&w, we, 16, &x) &&
	       sp_lit(&w, we, ":") && sp_u64(&w, we, 10, ino) && w == we;
}

static int parse_range(const char *name, const char *value, const char **p, const char *e,
		       struct proc_lock *out)
{
	const char *w, *we;
	int64_t v;

	if (!word(p, e, &w, &we) || !sp_s64_range(&w, we, 0, INT64_MAX, &v) || w != we)
		return bad(name, value, "bad start");
	out->start = (uint64_t)v;
	if (!word(p, e, &w, &we))
		return bad(name, value, "no end");
	if (is(w, we, "EOF")) {
		out->end = UINT64_MAX;
	} else {
		if (!sp_s64_range(&w, we, 0, INT64_MAX, &v) || w != we || (uint64_t)v < out->start)
			return bad(name, value, "bad end");
		out->end = (uint64_t)v;
	}
	sp_skip(p, e, BLANKS);
	return *p == e ? 0 : bad(name, value, "junk after the range");
}

int proc_parse_lock_line(const char *name, const char *value, struct proc_lock *out)
{
	const char *p = value, *e = value + strlen(value), *w, *we;
	int64_t v;
	uint64_t id;

	memset(out, 0, sizeof(*out));
	if (!sp_u64(&p, e, 10, &id) || !sp_lit(&p, e, ":") || !word(&p, e, &w, &we))
		return bad(name, value, "expected \"N: KIND\"");
	snprintf(out->kind_name, sizeof(out->kind_name), "%.*s", (int)(we - w), w);
	if (is(w, we, "FLOCK"))
		out->kind = PROC_LOCK_FLOCK;
	else if (is(w, we, "POSIX"))
		out->kind = PROC_LOCK_POSIX;
	else if (is(w, we, "OFDLCK"))
		out->kind = PROC_LOCK_OFD;
	else if (is(w, we, "LEASE"))
		out->kind = PROC_LOCK_LEASE;
	else
		out->kind = PROC_LOCK_OTHER;
	if (out->kind == PROC_LOCK_OTHER)
		return 0; /* delegations and the like: the caller refuses them by name */
	if (!word(&p, e, &w, &we) ||
	    !(out->kind == PROC_LOCK_LEASE
		  ? is(w, we, "ACTIVE") || is(w, we, "BREAKING") || is(w, we, "BREAKER")
		  : is(w, we, "ADVISORY")))
		return bad(name, value, "not an ADVISORY lock or a lease");
	out->lease_breaking = out->kind == PROC_LOCK_LEASE && !is(w, we, "ACTIVE");
	if (!word(&p, e, &w, &we) || !(is(w, we, "READ") || is(w, we, "WRITE") ||
				       (out->kind == PROC_LOCK_LEASE && is(w, we, "UNLCK"))))
		return bad(name, value, "type is neither READ nor WRITE");
	out->write = is(w, we, "WRITE");
	if (!word(&p, e, &w, &we) || !sp_s64_range(&w, we, -1, INT_MAX, &v) || w != we)
		return bad(name, value, "bad pid");
	out->pid = (pid_t)v;
	if (!word(&p, e, &w, &we) || !dev_ino(w, we, &out->ino))
		return bad(name, value, "bad MAJ:MIN:INO");
	return parse_range(name, value, &p, e, out);
}
