/* restore-seccomp: every thread's seccomp mode and filters (core.proto seccomp_filter_entry;
 * dump-seccomp.c reads them).
 *
 * Contract: restore_seccomp_check() refuses, before anything is created, an image whose filters
 * don't hold together (an empty, oversized or ragged program, flags other than
 * SECCOMP_FILTER_FLAG_LOG, a filter stacked on itself or a later one, a thread naming a filter
 * that isn't there, a mode other than 0, 1, 2) and a task under seccomp on a kernel that can't
 * suspend it for a tracer (PTRACE_O_SUSPEND_SECCOMP: the skeletons are seized with it, so the
 * filters installed here never filter the restore's own remote calls; they hold once the task
 * is released).
 * restore_seccomp_common() installs, in the leader before any other thread exists, the filters
 * every thread of the image shares (the longest common start of their chains), so that the
 * threads inherit them at clone and share them as they did: a later SECCOMP_FILTER_FLAG_TSYNC
 * in the task finds them in sync. restore_seccomp_thread() then gives one thread the rest of its
 * chain (or strict mode), and checks /proc/PID/task/TID/status: its mode and filter count must
 * be the dumped ones. Both run while the thread is still privileged (a filter needs
 * CAP_SYS_ADMIN or no_new_privs), before its credentials. Each filter is installed with
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW: the speculation controls the kernel forces when a filter is
 * installed were dumped with the thread (thread_attrs_entry.spec_ctrl) and are restored as
 * they were, not forced again.
 * Threads that shared a filter below the part all of them share get copies of it (the same
 * program): a TSYNC from one of them later reports the others out of sync.
 */
#define LOG_PREFIX "restore-core: "

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-core.h"

#define FPROG_SIZE 16 /* struct sock_fprog on x86-64: length, padding, pointer */

static uint32_t mode_of(const ThreadCoreEntry *te)
{
	return te && te->has_seccomp_mode ? te->seccomp_mode : 0;
}

/* The filters of te, oldest first, into v (room for n_seccomp_filters: a checked image has no
 * cycle); their count. */
static size_t chain_of(const CoreEntry *ce, const ThreadCoreEntry *te, uint32_t *v)
{
	size_t n = 0;

	if (mode_of(te) != 2)
		return 0;
	for (uint32_t i = te->seccomp_filter; i && n < ce->n_seccomp_filters;
	     i = ce->seccomp_filters[i - 1]->prev)
		v[n++] = i;
	for (size_t a = 0, b = n; a + 1 < b; a++, b--) {
		uint32_t x = v[a];

		v[a] = v[b - 1];
		v[b - 1] = x;
	}
	return n;
}

int restore_seccomp_check(const struct restore_ctx *c, const char *img, const CoreEntry *ce)
{
	bool used = false;

	for (size_t i = 0; i < ce->n_seccomp_filters; i++) {
		const SeccompFilterEntry *f = ce->seccomp_filters[i];
		size_t n = f->prog.len / sizeof(struct sock_filter);

		if (!n || n > BPF_MAXINSNS || f->prog.len % sizeof(struct sock_filter) ||
		    (f->flags & ~SECCOMP_FILTER_FLAG_LOG) || f->prev > i) {
			pr_err(
			    "%s: seccomp filter %zu is damaged (%zu bytes, flags %#x, stacked on "
			    "%u)\n",
			    img, i + 1, f->prog.len, f->flags, f->prev);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < ce->n_threads; i++) {
		const ThreadCoreEntry *te = ce->threads[i];
		uint32_t m = mode_of(te);

		if (m > 2 || (m == 2) != te->has_seccomp_filter ||
		    (m == 2 &&
		     (!te->seccomp_filter || te->seccomp_filter > ce->n_seccomp_filters))) {
			pr_err("%s: thread %u: seccomp mode %u with filter %u of %zu\n", img,
			       te->tid, m, te->has_seccomp_filter ? te->seccomp_filter : 0,
			       ce->n_seccomp_filters);
			return -EINVAL;
		}
		used |= m != 0;
	}
	if (used && !kd_has(&c->kd, KD_SUSPEND_SECCOMP)) {
		pr_err("%s: its threads are under seccomp, and this kernel does not let criu-lite "
		       "suspend seccomp for the restore's own remote calls "
		       "(PTRACE_O_SUSPEND_SECCOMP: %s)\n",
		       img, c->kd.item[KD_SUSPEND_SECCOMP].detail);
		return -ENOTSUP;
	}
	return 0;
}

/* Filter idx (1-based) of ce into the thread th, with its flags. */
static int install(const struct restore_thread *th, const CoreEntry *ce, uint32_t idx)
{
	const SeccompFilterEntry *f = ce->seccomp_filters[idx - 1];
	size_t len = FPROG_SIZE + f->prog.len, maplen = (len + 4095) & ~(size_t)4095;
	struct {
		uint64_t len, filter;
	} fprog = { .len = f->prog.len / sizeof(struct sock_filter) };
	uint64_t at = th->t->sk.scratch;
	bool mapped = len > th->t->sk.scratch_len;
	char what[96];
	long r;
	int ret;

	if (mapped) {
		r = core_rcall(th->rs, "map room for a seccomp filter", SYS_mmap, 0, (long)maplen,
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		if (r < 0 && r >= -4095)
			return (int)r;
		at = (uint64_t)r;
	}
	fprog.filter = at + FPROG_SIZE;
	ret = rsys_write(th->rs, at, &fprog, sizeof(fprog));
	if (!ret)
		ret = rsys_write(th->rs, at + FPROG_SIZE, f->prog.data, f->prog.len);
	if (!ret) {
		snprintf(what, sizeof(what), "install seccomp filter %u (%zu instructions)", idx,
			 (size_t)fprog.len);
		ret = restore_rcall(th->rs, what, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				    (long)(f->flags | SECCOMP_FILTER_FLAG_SPEC_ALLOW), (long)at, 0);
	}
	if (mapped) {
		int rc = restore_rcall(th->rs, "unmap the seccomp filter's room", SYS_munmap,
				       (long)at, (long)maplen, 0, 0);

		ret = ret ? ret : rc;
	}
	return ret;
}

/* The number of filters at the start of every thread's chain. */
static size_t common_len(const CoreEntry *ce, uint32_t *a, uint32_t *b)
{
	size_t n;

	if (!ce->n_threads || !ce->n_seccomp_filters)
		return 0;
	n = chain_of(ce, ce->threads[0], a);
	for (size_t i = 1; i < ce->n_threads && n; i++) {
		size_t m = chain_of(ce, ce->threads[i], b), k = 0;

		while (k < n && k < m && a[k] == b[k])
			k++;
		n = k;
	}
	return n;
}

static int with_chains(const CoreEntry *ce, uint32_t **a, uint32_t **b)
{
	*a = calloc(ce->n_seccomp_filters + 1, sizeof(**a));
	*b = calloc(ce->n_seccomp_filters + 1, sizeof(**b));
	if (*a && *b)
		return 0;
	free(*a);
	free(*b);
	pr_err("out of memory\n");
	return -ENOMEM;
}

int restore_seccomp_common(const struct restore_thread *leader, const CoreEntry *ce)
{
	uint32_t *a, *b;
	size_t n;
	int ret;

	if (!ce->n_seccomp_filters)
		return 0;
	ret = with_chains(ce, &a, &b);
	if (ret)
		return ret;
	n = common_len(ce, a, b);
	for (size_t k = 0; !ret && k < n; k++)
		ret = install(leader, ce, a[k]);
	if (!ret && n)
		pr_info("pid %d: %zu seccomp filter(s) every thread shares\n", leader->t->pid, n);
	free(a);
	free(b);
	return ret;
}

static int verify(const struct restore_thread *th, uint32_t mode, size_t filters)
{
	struct proc_status st = { 0 };
	int ret = proc_parse_task_status(th->t->pid, th->tid, &st);

	if (!ret && (st.seccomp != (int)mode || (size_t)st.seccomp_filters != filters)) {
		pr_err("pid %d: thread %d: seccomp mode %d with %d filter(s) after the restore, "
		       "not %u with %zu\n",
		       th->t->pid, th->vtid, st.seccomp, st.seccomp_filters, mode, filters);
		ret = -EIO;
	}
	proc_status_free(&st);
	return ret;
}

int restore_seccomp_thread(const struct restore_thread *th, const CoreEntry *ce)
{
	uint32_t m = mode_of(th->te), *a, *b;
	size_t n, common;
	int ret;

	if (!th->te)
		return 0; /* a leader that had exited: it exits again */
	if (m == 1) {
		ret = restore_rcall(th->rs, "enter seccomp strict mode", SYS_seccomp,
				    SECCOMP_SET_MODE_STRICT, 0, 0, 0);
		return ret ? ret : verify(th, 1, 0);
	}
	if (!ce->n_seccomp_filters)
		return 0;
	ret = with_chains(ce, &a, &b);
	if (ret)
		return ret;
	common = common_len(ce, a, b);
	n = chain_of(ce, th->te, a);
	for (size_t k = common; !ret && k < n; k++)
		ret = install(th, ce, a[k]);
	if (!ret)
		ret = verify(th, m, n);
	if (!ret && n)
		pr_info("pid %d: thread %d: %zu seccomp filter(s), %zu of its own\n", th->t->pid,
			th->vtid, n, n - common);
	free(a);
	free(b);
	return ret;
}
