/* dump-creds: credentials, which Linux keeps per thread (docs/core.md "Credentials").
 *
 * Contract: dump_task_creds() puts the task's credentials into core_entry: uids, gids (real,
 * effective, saved, fs), supplementary groups, the five capability sets and no_new_privs, from
 * the /proc status of the thread the dump runs on (the leader, or a live thread when the leader
 * has exited); the caller adds the securebits, which only the thread can tell (prctl).
 * dump_thread_creds() reads another thread's (/proc/PID/task/TID/status, and its securebits
 * through the session rs in it) and, where any of them differs from the task's, stores all of
 * them in te->creds. Raw setresuid(), setgroups(), capset() and prctl() change one thread only,
 * and C libraries broadcast them to every thread, so a difference means a program asked for it.
 * Nothing is changed in the task.
 */
#define LOG_PREFIX "dump-core: "

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"

static int copy_groups(const struct proc_status *st, uint32_t **out, size_t *n)
{
	*n = 0;
	*out = NULL;
	if (!st->n_groups)
		return 0;
	*out = malloc(st->n_groups * sizeof(**out));
	if (!*out) {
		pr_err("out of memory for %zu groups\n", st->n_groups);
		return -ENOMEM;
	}
	memcpy(*out, st->groups, st->n_groups * sizeof(**out));
	*n = st->n_groups;
	return 0;
}

int dump_task_creds(const struct proc_status *st, CoreEntry *ce)
{
	int ret = copy_groups(st, &ce->groups, &ce->n_groups);

	if (ret)
		return ret;
	ce->has_uid = ce->has_euid = ce->has_suid = ce->has_fsuid = true;
	ce->uid = st->uid[0];
	ce->euid = st->uid[1];
	ce->suid = st->uid[2];
	ce->fsuid = st->uid[3];
	ce->has_gid = ce->has_egid = ce->has_sgid = ce->has_fsgid = true;
	ce->gid = st->gid[0];
	ce->egid = st->gid[1];
	ce->sgid = st->gid[2];
	ce->fsgid = st->gid[3];
	ce->has_cap_eff = ce->has_cap_prm = ce->has_cap_inh = true;
	ce->has_cap_bnd = ce->has_cap_amb = true;
	ce->cap_eff = st->cap_eff;
	ce->cap_prm = st->cap_prm;
	ce->cap_inh = st->cap_inh;
	ce->cap_bnd = st->cap_bnd;
	ce->cap_amb = st->cap_amb;
	ce->has_no_new_privs = true;
	ce->no_new_privs = (uint32_t)st->no_new_privs;
	ce->has_seccomp_mode = true;
	ce->seccomp_mode = (uint32_t)st->seccomp;
	return 0;
}

/* Which credential of thread st (with securebits sb) differs from the task's, or NULL. */
static const char *differs(const CoreEntry *ce, const struct proc_status *st, uint32_t sb)
{
	const uint32_t uid[4] = { ce->uid, ce->euid, ce->suid, ce->fsuid };
	const uint32_t gid[4] = { ce->gid, ce->egid, ce->sgid, ce->fsgid };

	if (memcmp(st->uid, uid, sizeof(uid)))
		return "uids";
	if (memcmp(st->gid, gid, sizeof(gid)))
		return "gids";
	if (st->n_groups != ce->n_groups ||
	    (st->n_groups && memcmp(st->groups, ce->groups, st->n_groups * sizeof(uint32_t))))
		return "supplementary groups";
	if (st->cap_eff != ce->cap_eff || st->cap_prm != ce->cap_prm ||
	    st->cap_inh != ce->cap_inh || st->cap_bnd != ce->cap_bnd || st->cap_amb != ce->cap_amb)
		return "capabilities";
	if ((uint32_t)st->no_new_privs != ce->no_new_privs)
		return "no_new_privs";
	if (sb != ce->securebits)
		return "securebits";
	return NULL;
}

int dump_thread_creds(const struct dump_ctx *c, const CoreEntry *ce, pid_t tid, struct rsys *rs,
		      ThreadCoreEntry *te)
{
	struct proc_status st = { 0 };
	ThreadCredsEntry *cr;
	const char *what;
	long sb;
	int ret = proc_parse_task_status(c->st.pid, tid, &st);

	if (ret)
		return ret;
	sb = core_rcall(rs, "read the securebits", SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (sb < 0) {
		ret = (int)sb;
		goto out;
	}
	what = differs(ce, &st, (uint32_t)sb);
	if (!what)
		goto out;
	cr = malloc(sizeof(*cr));
	if (!cr) {
		pr_err("out of memory\n");
		ret = -ENOMEM;
		goto out;
	}
	thread_creds_entry__init(cr);
	te->creds = cr;
	ret = copy_groups(&st, &cr->groups, &cr->n_groups);
	cr->uid = st.uid[0];
	cr->euid = st.uid[1];
	cr->suid = st.uid[2];
	cr->fsuid = st.uid[3];
	cr->gid = st.gid[0];
	cr->egid = st.gid[1];
	cr->sgid = st.gid[2];
	cr->fsgid = st.gid[3];
	cr->cap_eff = st.cap_eff;
	cr->cap_prm = st.cap_prm;
	cr->cap_inh = st.cap_inh;
	cr->cap_bnd = st.cap_bnd;
	cr->cap_amb = st.cap_amb;
	cr->securebits = (uint32_t)sb;
	cr->no_new_privs = (uint32_t)st.no_new_privs;
	if (!ret)
		pr_info("pid %d: thread %d has credentials of its own (its %s differ)\n", c->st.pid,
			tid, what);
out:
	proc_status_free(&st);
	return ret;
}
