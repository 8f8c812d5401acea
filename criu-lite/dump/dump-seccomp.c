/* dump-seccomp: the seccomp state of every thread of a task (docs/core.md "seccomp").
 *
 * Contract: dump_seccomp_check() runs before the first remote call into the task: a thread
 * under seccomp (strict mode, or filters) is refused when the kernel can't suspend its filters
 * for a tracer (PTRACE_O_SUSPEND_SECCOMP, kerndat KD_SUSPEND_SECCOMP): criu-lite's remote calls
 * would be filtered (strict mode kills on the first one). dump_seccomp() then records, for every
 * thread of ce->threads, its mode (/proc/PID/task/TID/status "Seccomp": 0 none, 1 strict,
 * 2 filters) and, in mode 2, its chain of filters: each filter's classic BPF program
 * (PTRACE_SECCOMP_GET_FILTER; index 0 is the oldest, whatever ptrace(2) says: the kernel counts
 * back from the newest by the chain's length less the index) and the flags the kernel keeps for it
 * (PTRACE_SECCOMP_GET_METADATA: SECCOMP_FILTER_FLAG_LOG), into ce->seccomp_filters, oldest
 * first, each stacked on its prev. Threads whose chains hold the same programs in the same order
 * share their entries: the kernel shares a filter between the threads and children that
 * inherited it, and nothing shows whether two equal filters are one or two copies. The chain
 * read must be as long as the status's "Seccomp_filters", or the dump fails. Nothing is changed
 * in the task; the thread must be held by us in a ptrace stop.
 *
 * Refused, naming the thread and the filter: a filter that may hand a syscall to a user-space
 * listener (a SECCOMP_RET_USER_NOTIF return, or a return of the accumulator, which may be it):
 * its listener is an fd somewhere (in a supervisor outside the tree, typically) that a restore
 * can't connect a new filter to.
 *
 * Not libseccomp: it builds a filter from rules and loads it into the calling thread; here the
 * programs are read back raw from the kernel and installed raw into another task (rsys), which
 * it has no interface for.
 */
#define LOG_PREFIX "seccomp: "

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"

#define MAX_CHAIN 8192 /* the kernel's 32768-instruction path, 4 more per filter, bounds it */

struct chain {
	SeccompFilterEntry **f; /* oldest first, as ptrace numbers them */
	size_t n;
};

static void chain_free(struct chain *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		protobuf_c_message_free_unpacked(&ch->f[i]->base, NULL);
	free(ch->f);
	ch->f = NULL;
	ch->n = 0;
}

/* 0, or -ENOTSUP (logged) for a program that may return SECCOMP_RET_USER_NOTIF. */
static int check_prog(pid_t pid, pid_t tid, size_t idx, const struct sock_filter *insn, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (insn[i].code == (BPF_RET | BPF_K) &&
		    (insn[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) {
			pr_err("pid %d: thread %d: its seccomp filter %zu (0: the oldest) hands "
			       "syscalls to a user-space listener (SECCOMP_RET_USER_NOTIF, "
			       "instruction %zu): not supported (the listener can't be connected "
			       "to a restored filter)\n",
			       pid, tid, idx, i);
			return -ENOTSUP;
		}
		if (insn[i].code == (BPF_RET | BPF_A)) {
			pr_err(
			    "pid %d: thread %d: its seccomp filter %zu (0: the oldest) returns a "
			    "computed action (instruction %zu), which may hand syscalls to a "
			    "user-space listener (SECCOMP_RET_USER_NOTIF): not supported\n",
			    pid, tid, idx, i);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* Filter idx of thread tid, or -ENOENT past the oldest. */
static int read_filter(pid_t pid, pid_t tid, size_t idx, SeccompFilterEntry **out)
{
	struct __ptrace_seccomp_metadata md = { .filter_off = idx };
	SeccompFilterEntry *f;
	struct sock_filter *insn;
	long n;
	int ret;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, NULL);
	if (n < 0 && errno == ENOENT)
		return -ENOENT;
	if (n <= 0 || n > BPF_MAXINSNS) {
		ret = n < 0 ? -errno : -EINVAL;
		if (n < 0)
			pr_perror("pid %d: thread %d: can't read its seccomp filter %zu "
				  "(PTRACE_SECCOMP_GET_FILTER)",
				  pid, tid, idx);
		else
			pr_err("pid %d: thread %d: its seccomp filter %zu has %ld instructions\n",
			       pid, tid, idx, n);
		return ret;
	}
	insn = calloc((size_t)n, sizeof(*insn));
	f = malloc(sizeof(*f));
	if (!insn || !f) {
		free(insn);
		free(f);
		pr_err("out of memory for a seccomp filter\n");
		return -ENOMEM;
	}
	seccomp_filter_entry__init(f);
	f->prog.data = (uint8_t *)insn;
	f->prog.len = (size_t)n * sizeof(*insn);
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, insn) != n ||
	    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(md), &md) < 0) {
		ret = -errno;
		pr_perror("pid %d: thread %d: can't read its seccomp filter %zu or its flags", pid,
			  tid, idx);
		goto fail;
	}
	ret = check_prog(pid, tid, idx, insn, (size_t)n);
	if (ret)
		goto fail;
	f->flags = (uint32_t)(md.flags & SECCOMP_FILTER_FLAG_LOG);
	*out = f;
	return 0;
fail:
	protobuf_c_message_free_unpacked(&f->base, NULL);
	return ret;
}

static int read_chain(pid_t pid, pid_t tid, int expect, struct chain *ch)
{
	int ret = 0;

	ch->f = calloc(MAX_CHAIN, sizeof(*ch->f));
	if (!ch->f) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	while (ch->n < MAX_CHAIN && !(ret = read_filter(pid, tid, ch->n, &ch->f[ch->n])))
		ch->n++;
	if (ret && ret != -ENOENT)
		return ret;
	if (ch->n != (size_t)expect) {
		pr_err("pid %d: thread %d: %zu seccomp filters read, but its status shows %d\n",
		       pid, tid, ch->n, expect);
		return -EINVAL;
	}
	return 0;
}

static bool same(const SeccompFilterEntry *a, const SeccompFilterEntry *b)
{
	return a->prev == b->prev && a->flags == b->flags && a->prog.len == b->prog.len &&
	       !memcmp(a->prog.data, b->prog.data, a->prog.len);
}

/* Link the chain into ce->seccomp_filters, oldest first, reusing equal entries (the chain's
 * entries are taken or freed); the 1-based index of its newest filter. */
static int add_chain(CoreEntry *ce, struct chain *ch, uint32_t *top)
{
	uint32_t prev = 0;

	for (size_t k = 0; k < ch->n; k++) {
		SeccompFilterEntry *f = ch->f[k];
		size_t i;

		f->prev = prev;
		for (i = 0; i < ce->n_seccomp_filters && !same(ce->seccomp_filters[i], f); i++)
			;
		if (i == ce->n_seccomp_filters) {
			SeccompFilterEntry **v = realloc(ce->seccomp_filters, (i + 1) * sizeof(*v));

			if (!v) {
				pr_err("out of memory\n");
				return -ENOMEM;
			}
			ce->seccomp_filters = v;
			v[ce->n_seccomp_filters++] = f;
		} else {
			protobuf_c_message_free_unpacked(&f->base, NULL);
		}
		ch->f[k] = NULL;
		prev = (uint32_t)(i + 1);
	}
	ch->n = 0;
	*top = prev;
	return 0;
}

static int dump_thread_seccomp(pid_t pid, pid_t tid, CoreEntry *ce, ThreadCoreEntry *te)
{
	struct proc_status st = { 0 };
	struct chain ch = { 0 };
	int ret = proc_parse_task_status(pid, tid, &st);

	if (ret)
		return ret;
	te->has_seccomp_mode = true;
	te->seccomp_mode = (uint32_t)st.seccomp;
	if (st.seccomp == 2) {
		ret = read_chain(pid, tid, st.seccomp_filters, &ch);
		if (!ret)
			ret = add_chain(ce, &ch, &te->seccomp_filter);
		te->has_seccomp_filter = !ret;
		chain_free(&ch);
	} else if (st.seccomp != 0 && st.seccomp != 1) {
		pr_err("pid %d: thread %d: unknown seccomp mode %d\n", pid, tid, st.seccomp);
		ret = -ENOTSUP;
	}
	if (!ret && st.seccomp)
		pr_info("pid %d: thread %d: seccomp mode %d, %d filter(s)\n", pid, tid, st.seccomp,
			st.seccomp_filters);
	proc_status_free(&st);
	return ret;
}

int dump_seccomp_check(const struct dump_ctx *c)
{
	if (kd_has(&c->sh->kd, KD_SUSPEND_SECCOMP))
		return 0;
	for (size_t k = 0; k < c->st.nr; k++) {
		struct proc_status st = { 0 };
		int ret = proc_parse_task_status(c->st.pid, c->st.thr[k].tid, &st);

		if (!ret && st.seccomp) {
			pr_err("pid %d: thread %d is under seccomp (mode %d), and this kernel does "
			       "not let criu-lite suspend it for its remote calls "
			       "(PTRACE_O_SUSPEND_SECCOMP: %s)\n",
			       c->st.pid, c->st.thr[k].tid, st.seccomp,
			       c->sh->kd.item[KD_SUSPEND_SECCOMP].detail);
			ret = -ENOTSUP;
		}
		proc_status_free(&st);
		if (ret)
			return ret;
	}
	return 0;
}

int dump_seccomp(struct dump_ctx *c, CoreEntry *ce)
{
	for (size_t k = 0; k < c->st.nr; k++) {
		ThreadCoreEntry *te = NULL;
		int ret;

		for (size_t j = 0; j < ce->n_threads && !te; j++)
			if (ce->threads[j]->tid == (uint32_t)c->vtid[k])
				te = ce->threads[j];
		if (!te) {
			pr_err("pid %d: thread %d is not in the core image (internal error)\n",
			       c->st.pid, c->st.thr[k].tid);
			return -EINVAL;
		}
		ret = dump_thread_seccomp(c->st.pid, c->st.thr[k].tid, ce, te);
		if (ret)
			return ret;
	}
	return 0;
}
