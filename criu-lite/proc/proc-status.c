/* proc-status: /proc/PID/status -> struct proc_status (see proc.h). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

#define NGROUPS_LIMIT 65536 /* NGROUPS_MAX of the kernel */

enum status_type {
	SS_NAME,   /* escaped command name */
	SS_STATE,  /* "S (sleeping)" */
	SS_PID,	   /* pid_t */
	SS_INT,	   /* non-negative int */
	SS_IDS,	   /* 4 ids */
	SS_GROUPS, /* any number of ids */
	SS_NS,	   /* 1..PROC_NS_LEVELS pids */
	SS_SIGQ,   /* "cur/max" */
	SS_HEX,	   /* 64-bit hex mask */
	SS_OCT,	   /* umask */
};

#define K(key, type, field, req)                                    \
	{                                                           \
		key, type, offsetof(struct proc_status, field), req \
	}

static const struct status_key {
	const char *key;
	enum status_type type;
	size_t off;
	bool required;
} status_keys[] = {
	K("Name", SS_NAME, name, true),
	K("Umask", SS_OCT, umask, false),
	K("State", SS_STATE, state, true),
	K("Tgid", SS_PID, tgid, true),
	K("Pid", SS_PID, pid, true),
	K("PPid", SS_PID, ppid, true),
	K("TracerPid", SS_PID, tracer_pid, true),
	K("Uid", SS_IDS, uid, true),
	K("Gid", SS_IDS, gid, true),
	K("Groups", SS_GROUPS, groups, true),
	K("NStgid", SS_NS, ns_tgid, true),
	K("NSpid", SS_NS, ns_pid, true),
	K("NSpgid", SS_NS, ns_pgid, true),
	K("NSsid", SS_NS, ns_sid, true),
	K("Threads", SS_INT, threads, true),
	K("SigQ", SS_SIGQ, sigq_cur, true),
	K("SigPnd", SS_HEX, sig_pnd, true),
	K("ShdPnd", SS_HEX, shd_pnd, true),
	K("SigBlk", SS_HEX, sig_blk, true),
	K("SigIgn", SS_HEX, sig_ign, true),
	K("SigCgt", SS_HEX, sig_cgt, true),
	K("CapInh", SS_HEX, cap_inh, true),
	K("CapPrm", SS_HEX, cap_prm, true),
	K("CapEff", SS_HEX, cap_eff, true),
	K("CapBnd", SS_HEX, cap_bnd, true),
	K("CapAmb", SS_HEX, cap_amb, true),
	K("NoNewPrivs", SS_INT, no_new_privs, true),
	K("Seccomp", SS_INT, seccomp, true),
	K("Seccomp_filters", SS_INT, seccomp_filters, true),
};

#undef K

#define N_STATUS_KEYS ARRAY_SIZE(status_keys)

void proc_status_free(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
	st->n_groups = 0;
}

/* The kernel escapes '\n' as "\n" and '\\' as "\\" in Name; nothing else. */
static int parse_name(struct ptext *t, const char *p, struct proc_status *out)
{
	size_t n = 0;

	if (!sp_lit(&p, t->eol, "\t"))
		return pt_fail(t, "no tab after Name:");
	for (; p < t->eol; p++) {
		char c = *p;

		if (c == '\\') {
			if (++p == t->eol || (*p != 'n' && *p != '\\'))
				return pt_fail(t, "bad escape in Name");
			c = *p == 'n' ? '\n' : '\\';
		}
		if (n + 1 >= sizeof(out->name))
			return pt_fail(t, "Name is too long");
		out->name[n++] = c;
	}
	out->name[n] = '\0';
	return 0;
}

static bool at_eol(const char **p, const char *e)
{
	sp_skip(p, e, " \t");
	return *p == e;
}

static int parse_list(struct ptext *t, const char *p, const struct status_key *k,
		      struct proc_status *out)
{
	const char *e = t->eol;
	size_t n = 0, cap = 0;
	uint32_t *ids = NULL;
	int ret;

	while (!at_eol(&p, e)) {
		uint64_t v;
		int64_t s;

		if (k->type == SS_IDS) {
			if (n == 4 || !sp_u64_range(&p, e, 10, UINT32_MAX, &v))
				return pt_fail(t, "bad %s (want 4 ids)", k->key);
			((uint32_t *)((char *)out + k->off))[n++] = (uint32_t)v;
		} else if (k->type == SS_NS) {
			if (n == PROC_NS_LEVELS || !sp_s64_range(&p, e, 0, INT_MAX, &s))
				return pt_fail(t, "bad %s (want 1-%d pids)", k->key,
					       PROC_NS_LEVELS);
			((pid_t *)((char *)out + k->off))[n++] = (pid_t)s;
		} else {
			if (n == NGROUPS_LIMIT || !sp_u64_range(&p, e, 10, UINT32_MAX, &v)) {
				free(ids);
				return pt_fail(t, "bad Groups");
			}
			ret = proc_grow(&ids, &cap, n + 1, sizeof(*ids));
			if (ret) {
				free(ids);
				return ret;
			}
			ids[n++] = (uint32_t)v;
		}
		if (p != e && *p != ' ' && *p != '\t') {
			free(ids);
			return pt_fail(t, "bad %s", k->key);
		}
	}
	if (k->type == SS_IDS && n != 4)
		return pt_fail(t, "bad %s (want 4 ids)", k->key);
	if (k->type == SS_NS) {
		if (n == 0)
			return pt_fail(t, "%s is empty", k->key);
		if (out->ns_levels && n != out->ns_levels)
			return pt_fail(t, "%s has %zu levels, not %u", k->key, n, out->ns_levels);
		out->ns_levels = n;
	}
	if (k->type == SS_GROUPS) {
		out->groups = ids;
		out->n_groups = n;
	}
	return 0;
}

static int parse_value(struct ptext *t, const char *p, const struct status_key *k,
		       struct proc_status *out)
{
	const char *e = t->eol;
	void *dst = (char *)out + k->off;
	uint64_t u;
	int64_t s;

	if (k->type == SS_NAME)
		return parse_name(t, p, out);
	sp_skip(&p, e, " \t");
	switch (k->type) {
	case SS_STATE:
		if (e - p < 1 || !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return pt_fail(t, "bad State");
		out->state = *p++;
		break;
	case SS_PID:
	case SS_INT:
		if (!sp_s64_range(&p, e, 0, INT_MAX, &s))
			return pt_fail(t, "bad %s", k->key);
		*(int *)dst = (int)s;
		break;
	case SS_IDS:
	case SS_GROUPS:
	case SS_NS:
		return parse_list(t, p, k, out);
	case SS_SIGQ:
		if (!sp_u64(&p, e, 10, &out->sigq_cur) || !sp_lit(&p, e, "/") ||
		    !sp_u64(&p, e, 10, &out->sigq_max))
			return pt_fail(t, "bad SigQ");
		break;
	case SS_HEX:
		if (!sp_u64(&p, e, 16, &u))
			return pt_fail(t, "bad %s", k->key);
		*(uint64_t *)dst = u;
		break;
	case SS_OCT:
		if (!sp_u64_range(&p, e, 8, 0777, &u))
			return pt_fail(t, "bad %s", k->key);
		*(int *)dst = (int)u;
		break;
	case SS_NAME:
		break;
	}
	/* State goes on with " (sleeping)" */
	if (k->type == SS_STATE) {
		if (!sp_lit(&p, e, " (") || e[-1] != ')')
			return pt_fail(t, "bad State");
		return 0;
	}
	if (!at_eol(&p, e))
		return pt_fail(t, "junk after the value of %s", k->key);
	return 0;
}

int proc_parse_status_buf(const char *name, const char *buf, size_t len, struct proc_status *out)
{
	uint64_t seen = 0;
	struct ptext t;
	int ret;

	memset(out, 0, sizeof(*out));
	out->umask = -1;
	pt_init(&t, name, buf, len);
	while ((ret = pt_next_line(&t)) > 0) {
		const char *colon = memchr(t.line, ':', t.eol - t.line);
		size_t klen, i;

		if (!colon || colon == t.line) {
			ret = pt_fail(&t, "not a 'Key: value' line");
			break;
		}
		klen = colon - t.line;
		for (i = 0; i < N_STATUS_KEYS; i++)
			if (strlen(status_keys[i].key) == klen &&
			    memcmp(status_keys[i].key, t.line, klen) == 0)
				break;
		if (i == N_STATUS_KEYS)
			continue; /* a line we do not need */
		if (seen & (1ULL << i)) {
			ret = pt_fail(&t, "%s given twice", status_keys[i].key);
			break;
		}
		seen |= 1ULL << i;
		ret = parse_value(&t, colon + 1, &status_keys[i], out);
		if (ret)
			break;
	}
	for (size_t i = 0; !ret && i < N_STATUS_KEYS; i++)
		if (status_keys[i].required && !(seen & (1ULL << i)))
			ret = pt_fail(&t, "no %s line", status_keys[i].key);
	if (ret)
		proc_status_free(out);
	return ret;
}

static int parse_status(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_status_buf(name, buf, len, out);
}

static int read_and_parse(const char *path, struct proc_status *out)
{
	memset(out, 0, sizeof(*out));
	return proc_read_parse(path, parse_status, out);
}

int proc_parse_status(pid_t pid, struct proc_status *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return read_and_parse(path, out);
}

int proc_parse_task_status(pid_t pid, pid_t tid, struct proc_status *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	return read_and_parse(path, out);
}
