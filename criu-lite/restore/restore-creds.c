/* restore-creds: the dumped credentials, set inside one thread of the skeleton (which runs as
 * the restorer: root with its capabilities) through rsys. Credentials are per thread in Linux:
 * restore-core runs this in every thread, each through its own session.
 *
 * The order matters because every step gives up privileges the next ones need:
 *   setgroups, setresgid (+ setfsgid)       need CAP_SETGID
 *   PR_CAPBSET_DROP                          needs CAP_SETPCAP
 *   securebits |= NO_SETUID_FIXUP            needs CAP_SETPCAP; keeps setresuid from clearing
 *   setresuid (+ setfsuid)                   the capability sets (and from needing KEEP_CAPS)
 *   capset with the dumped inheritable set,  ambient capabilities need their bit in both the
 *   then PR_CAP_AMBIENT_RAISE                permitted and the inheritable set
 *   securebits = dumped                      needs CAP_SETPCAP, still in the effective set
 *   capset with the dumped sets              only lowers, so it can come last
 * Only what differs from the thread's credentials is changed, and the result is read back
 * from /proc/TID/status.
 */
#define LOG_PREFIX "restore-core: "

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-core.h"

#define CAP_BITS 64

/* The credentials one thread gets: the task's (core_entry) or its own (thread_creds_entry),
 * which have the same fields. */
struct creds {
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid, securebits;
	const uint32_t *groups;
	size_t n_groups;
	uint64_t cap_eff, cap_prm, cap_inh, cap_bnd, cap_amb;
};

#define CREDS_OF(e)                                     \
	((struct creds){ .uid = (e)->uid,               \
			 .euid = (e)->euid,             \
			 .suid = (e)->suid,             \
			 .fsuid = (e)->fsuid,           \
			 .gid = (e)->gid,               \
			 .egid = (e)->egid,             \
			 .sgid = (e)->sgid,             \
			 .fsgid = (e)->fsgid,           \
			 .securebits = (e)->securebits, \
			 .groups = (e)->groups,         \
			 .n_groups = (e)->n_groups,     \
			 .cap_eff = (e)->cap_eff,       \
			 .cap_prm = (e)->cap_prm,       \
			 .cap_inh = (e)->cap_inh,       \
			 .cap_bnd = (e)->cap_bnd,       \
			 .cap_amb = (e)->cap_amb })

struct capset_buf {
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
};

static int rcall(const struct restore_thread *th, const char *what, long nr, long a1, long a2,
		 long a3, long a4)
{
	long r = core_rcall(th->rs, what, nr, a1, a2, a3, a4);

	return r < 0 && r >= -4095 ? (int)r : 0;
}

static bool groups_equal(const struct creds *ce, const struct proc_status *st)
{
	if (ce->n_groups != st->n_groups)
		return false;
	return !ce->n_groups || !memcmp(ce->groups, st->groups, ce->n_groups * sizeof(uint32_t));
}

static int do_capset(const struct restore_thread *th, uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct capset_buf b = { .hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 } };
	uint64_t hdr_addr = th->t->sk.scratch, data_addr = th->t->sk.scratch + sizeof(b.hdr);
	char what[96];
	int ret;

	b.data[0].effective = (uint32_t)eff;
	b.data[1].effective = (uint32_t)(eff >> 32);
	b.data[0].permitted = (uint32_t)prm;
	b.data[1].permitted = (uint32_t)(prm >> 32);
	b.data[0].inheritable = (uint32_t)inh;
	b.data[1].inheritable = (uint32_t)(inh >> 32);
	ret = rsys_write(th->rs, th->t->sk.scratch, &b, sizeof(b));
	if (ret)
		return ret;
	snprintf(what, sizeof(what),
		 "set capabilities eff %#" PRIx64 " prm %#" PRIx64 " inh %#" PRIx64, eff, prm, inh);
	return rcall(th, what, SYS_capset, (long)hdr_addr, (long)data_addr, 0, 0);
}

static int set_groups_gids(const struct restore_thread *th, const struct creds *ce,
			   const struct proc_status *st)
{
	char what[96];
	int ret;

	if (!groups_equal(ce, st)) {
		size_t len = ce->n_groups * sizeof(uint32_t);

		ret = len ? rsys_write(th->rs, th->t->sk.scratch, ce->groups, len) : 0;
		snprintf(what, sizeof(what), "set %zu supplementary group(s)", ce->n_groups);
		if (!ret)
			ret = rcall(th, what, SYS_setgroups, (long)ce->n_groups,
				    (long)th->t->sk.scratch, 0, 0);
		if (ret)
			return ret;
	}
	if (ce->gid != st->gid[0] || ce->egid != st->gid[1] || ce->sgid != st->gid[2] ||
	    ce->fsgid != st->gid[3]) {
		snprintf(what, sizeof(what), "set gids %u/%u/%u", ce->gid, ce->egid, ce->sgid);
		ret = rcall(th, what, SYS_setresgid, ce->gid, ce->egid, ce->sgid, 0);
		/* setfsgid() returns the previous fsgid, never an error: checked at the end */
		if (!ret && ce->fsgid != ce->egid)
			ret = rcall(th, "set the fsgid", SYS_setfsgid, ce->fsgid, 0, 0, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int drop_bounding(const struct restore_thread *th, const struct creds *ce,
			 const struct proc_status *st)
{
	char what[64];

	if (ce->cap_bnd & ~st->cap_bnd) {
		pr_err("pid %d: the dumped capability bounding set %#" PRIx64 " has capabilities "
		       "the restorer lacks (%#" PRIx64 ")\n",
		       th->t->pid, ce->cap_bnd, ce->cap_bnd & ~st->cap_bnd);
		return -EPERM;
	}
	for (int cap = 0; cap < CAP_BITS; cap++) {
		int ret;

		if (!(st->cap_bnd & ~ce->cap_bnd & (1ULL << cap)))
			continue;
		snprintf(what, sizeof(what), "drop capability %d from the bounding set", cap);
		ret = rcall(th, what, SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int set_uids(const struct restore_thread *th, const struct creds *ce)
{
	char what[96];
	int ret;

	/* keep setresuid() from touching the capability sets: they are set explicitly below */
	ret = rcall(th, "set SECBIT_NO_SETUID_FIXUP", SYS_prctl, PR_SET_SECUREBITS,
		    SECBIT_NO_SETUID_FIXUP, 0, 0);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "set uids %u/%u/%u", ce->uid, ce->euid, ce->suid);
	ret = rcall(th, what, SYS_setresuid, ce->uid, ce->euid, ce->suid, 0);
	if (!ret && ce->fsuid != ce->euid)
		ret = rcall(th, "set the fsuid", SYS_setfsuid, ce->fsuid, 0, 0, 0);
	return ret;
}

static int set_caps(const struct restore_thread *th, const struct creds *ce,
		    const struct proc_status *st)
{
	char what[96];
	int ret;

	if (ce->cap_amb) {
		ret = do_capset(th, st->cap_eff, st->cap_prm, ce->cap_inh);
		for (int cap = 0; !ret && cap < CAP_BITS; cap++) {
			if (!(ce->cap_amb & (1ULL << cap)))
				continue;
			snprintf(what, sizeof(what), "raise ambient capability %d", cap);
			ret = rcall(th, what, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap,
				    0);
		}
		if (ret)
			return ret;
	}
	snprintf(what, sizeof(what), "set securebits %#x", ce->securebits);
	ret = rcall(th, what, SYS_prctl, PR_SET_SECUREBITS, ce->securebits, 0, 0);
	if (!ret)
		ret = do_capset(th, ce->cap_eff, ce->cap_prm, ce->cap_inh);
	return ret;
}

static int verify(const struct restore_thread *th, const struct creds *ce)
{
	const uint32_t uid[4] = { ce->uid, ce->euid, ce->suid, ce->fsuid };
	const uint32_t gid[4] = { ce->gid, ce->egid, ce->sgid, ce->fsgid };
	struct proc_status st = { 0 };
	const char *bad = NULL;
	int ret;

	ret = proc_parse_status(th->tid, &st);
	if (ret)
		return ret;
	if (memcmp(st.uid, uid, sizeof(uid)))
		bad = "uids";
	else if (memcmp(st.gid, gid, sizeof(gid)))
		bad = "gids";
	else if (!groups_equal(ce, &st))
		bad = "supplementary groups";
	else if (st.cap_eff != ce->cap_eff || st.cap_prm != ce->cap_prm ||
		 st.cap_inh != ce->cap_inh || st.cap_bnd != ce->cap_bnd ||
		 st.cap_amb != ce->cap_amb)
		bad = "capabilities";
	if (bad) {
		pr_err("pid %d: thread %d: the %s differ from the image after restoring them\n",
		       th->t->pid, th->tid, bad);
		ret = -EIO;
	}
	proc_status_free(&st);
	return ret;
}

int restore_creds(const struct restore_thread *th)
{
	const CoreEntry *core = th->t->core;
	const ThreadCredsEntry *own = th->te ? th->te->creds : NULL;
	const struct creds cr = own ? CREDS_OF(own) : CREDS_OF(core), *ce = &cr;
	struct proc_status st = { 0 };
	bool ids, caps;
	long secbits;
	int ret;

	if (!own &&
	    (!core->has_uid || !core->has_gid || !core->has_cap_eff || !core->has_securebits)) {
		pr_info("pid %d: the image holds no credentials: keeping the restorer's\n",
			th->t->pid);
		return 0;
	}
	ret = proc_parse_status(th->tid, &st);
	if (ret)
		return ret;
	secbits = core_rcall(th->rs, "read the securebits", SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (secbits < 0) {
		ret = (int)secbits;
		goto out;
	}
	ids = st.uid[0] != ce->uid || st.uid[1] != ce->euid || st.uid[2] != ce->suid ||
	      st.uid[3] != ce->fsuid;
	caps = st.cap_eff != ce->cap_eff || st.cap_prm != ce->cap_prm ||
	       st.cap_inh != ce->cap_inh || st.cap_amb != ce->cap_amb ||
	       (uint32_t)secbits != ce->securebits;
	ret = set_groups_gids(th, ce, &st);
	if (!ret)
		ret = drop_bounding(th, ce, &st);
	if (!ret && ids)
		ret = set_uids(th, ce);
	if (!ret && (ids || caps))
		ret = set_caps(th, ce, &st);
	if (!ret)
		ret = verify(th, ce);
	if (!ret)
		pr_info("pid %d: thread %d: %scredentials uid %u/%u/%u/%u gid %u/%u/%u/%u, %zu "
			"group(s), caps eff %#" PRIx64 " bnd %#" PRIx64 "\n",
			th->t->pid, th->tid, own ? "its own " : "", ce->uid, ce->euid, ce->suid,
			ce->fsuid, ce->gid, ce->egid, ce->sgid, ce->fsgid, ce->n_groups,
			ce->cap_eff, ce->cap_bnd);
out:
	proc_status_free(&st);
	return ret;
}
