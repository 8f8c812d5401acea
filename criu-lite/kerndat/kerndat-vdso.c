/* kerndat-vdso: the vDSO block's layout ([vvar], [vvar_vclock], [vdso] and
 * where [vsyscall] is) and whether arch_prctl(ARCH_MAP_VDSO_64) recreates
 * that block at an address of our choice, which restore relies on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"
#include "criu-lite/log.h"

static unsigned long layout_size(const struct kd_vdso_layout *l)
{
	unsigned long sz = 0;

	for (unsigned int i = 0; i < l->nr_parts; i++)
		sz += l->part[i].size;
	return sz;
}

static void layout_str(const struct kd_vdso_layout *l, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < l->nr_parts && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s %luK", i ? ", " : "",
				      kerndat_vdso_kind_name(l->part[i].kind),
				      l->part[i].size >> 10);
	if (l->vsyscall && o < len)
		snprintf(buf + o, len - o, "; vsyscall %luK", l->vsyscall_size >> 10);
}

static bool vdso_kind(enum vma_kind vk, enum kd_vdso_kind *k)
{
	switch (vk) {
	case VMA_VVAR:
		*k = KD_VVAR;
		return true;
	case VMA_VVAR_VCLOCK:
		*k = KD_VVAR_VCLOCK;
		return true;
	case VMA_VDSO:
		*k = KD_VDSO;
		return true;
	default:
		return false;
	}
}

/* the block's parts in address order; "" or why the layout is not one we know */
static void add_part(struct kd_vdso_layout *l, const struct vma *v, enum kd_vdso_kind k, char *why,
		     size_t len)
{
	const char *name = kerndat_vdso_kind_name(k);
	unsigned long end_prev;

	if (l->nr_parts == KD_VDSO_MAX_PARTS) {
		snprintf(why, len, "more than %d vDSO mappings", KD_VDSO_MAX_PARTS);
		return;
	}
	for (unsigned int j = 0; j < l->nr_parts; j++)
		if (l->part[j].kind == k) {
			snprintf(why, len, "[%s] appears twice", name);
			return;
		}
	end_prev = l->base + layout_size(l);
	if (l->nr_parts && v->start != end_prev) {
		snprintf(why, len, "[%s] at 0x%llx is not next to the rest of the block", name,
			 (unsigned long long)v->start);
		return;
	}
	if (!l->nr_parts)
		l->base = v->start;
	l->part[l->nr_parts].kind = k;
	l->part[l->nr_parts].size = v->end - v->start;
	l->nr_parts++;
}

/* layout in /proc/PID/smaps; on failure nr_parts is 0 and why says why */
static int vdso_parse(pid_t pid, struct kd_vdso_layout *l, char *why, size_t len)
{
	struct vma_list vmas;
	enum kd_vdso_kind k;
	bool has_vdso = false;
	int ret;

	memset(l, 0, sizeof(*l));
	why[0] = '\0';
	/* smaps of a live task (ourselves: a sanitizer's runtime maps memory meanwhile) is not
	 * read as one snapshot, and the strict parser refuses a torn one: read it again */
	for (int tries = 0;; tries++) {
		ret = proc_parse_vmas(pid, &vmas);
		if (ret != -EINVAL || tries == 4)
			break;
		pr_debug("vDSO layout: /proc/%d/smaps changed while read, reading it again\n", pid);
	}
	if (ret) {
		snprintf(why, len, "cannot parse /proc/%d/smaps", pid);
		return ret;
	}
	for (size_t i = 0; i < vmas.n && !why[0]; i++) {
		const struct vma *v = &vmas.v[i];

		if (v->kind == VMA_VSYSCALL) {
			l->vsyscall = v->start;
			l->vsyscall_size = v->end - v->start;
		} else if (vdso_kind(v->kind, &k)) {
			has_vdso |= k == KD_VDSO;
			add_part(l, v, k, why, len);
		}
	}
	vma_list_free(&vmas);
	if (!why[0] && !has_vdso)
		snprintf(why, len, "no [vdso] in /proc/%d/smaps", pid);
	if (why[0]) {
		l->nr_parts = 0;
		return -EINVAL;
	}
	return 0;
}

struct remap_result {
	long ret;	    /* arch_prctl's return value */
	int err;	    /* its errno, or that of the munmap before it */
	unsigned long addr; /* where the block was asked for */
};

/* child: unmap the whole vDSO block, then ask the kernel for a new one at a
 * fresh address. It must not call into the vDSO from here on. */
static int remap_child(int fd, void *arg)
{
	const struct kd_vdso_layout *l = arg;
	struct remap_result r = { 0 };
	unsigned long size = layout_size(l);
	void *hole;
	char c;

	hole = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, size) || munmap((void *)l->base, size)) {
		r.ret = -1;
		r.err = errno;
	} else {
		r.addr = (unsigned long)hole;
		r.ret = syscall(SYS_arch_prctl, ARCH_MAP_VDSO_64, r.addr);
		r.err = r.ret < 0 ? errno : 0;
	}
	if (kd_write_full(fd, &r, sizeof(r)))
		return 1;
	kd_read_full(fd, &c, 1); /* stay until the parent has read our maps */
	return 0;
}

static bool same_layout(const struct kd_vdso_layout *a, const struct kd_vdso_layout *b)
{
	if (a->nr_parts != b->nr_parts)
		return false;
	for (unsigned int i = 0; i < a->nr_parts; i++)
		if (a->part[i].kind != b->part[i].kind || a->part[i].size != b->part[i].size)
			return false;
	return true;
}

static void probe_arch_map_vdso(struct kerndat *kd)
{
	struct kd_vdso_layout moved;
	struct remap_result r;
	struct kd_child c;
	char eb[32], why[96], got[96];
	int ret;

	ret = kd_child_start(&c, remap_child, &kd->vdso);
	if (!ret)
		ret = kd_child_recv(&c, &r, sizeof(r));
	if (ret) {
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_NOT_PROBED, "probe child: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	if (r.ret < 0 && !r.addr) {
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_NOT_PROBED, "unmapping the vDSO in pid %d: %s",
		       c.pid, kd_errstr(r.err, eb, sizeof(eb)));
		goto out;
	}
	if (r.ret < 0) {
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_MISSING, "arch_prctl(ARCH_MAP_VDSO_64, 0x%lx): %s",
		       r.addr, kd_errstr(r.err, eb, sizeof(eb)));
		goto out;
	}
	if (vdso_parse(c.pid, &moved, why, sizeof(why))) {
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_MISSING, "after arch_prctl in pid %d: %s", c.pid,
		       why);
		goto out;
	}
	if (moved.base != r.addr || !same_layout(&moved, &kd->vdso)) {
		layout_str(&moved, got, sizeof(got));
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_MISSING, "asked for 0x%lx, got %s at 0x%lx", r.addr,
		       got, moved.base);
		goto out;
	}
	kd_set(kd, KD_ARCH_MAP_VDSO, KD_OK, "a child's vDSO block rebuilt at a new address");
out:
	kd_child_stop(&c);
}

int kd_vdso_here(struct kd_vdso_layout *l, char *why, size_t len)
{
	return vdso_parse(getpid(), l, why, len);
}

int kd_probe_vdso(struct kerndat *kd)
{
	char why[96], desc[96];

	if (vdso_parse(getpid(), &kd->vdso, why, sizeof(why))) {
		kd_set(kd, KD_VDSO_LAYOUT, KD_MISSING, "%s", why);
		kd_set(kd, KD_ARCH_MAP_VDSO, KD_NOT_PROBED, "vDSO layout unknown");
		return 0;
	}
	layout_str(&kd->vdso, desc, sizeof(desc));
	kd_set(kd, KD_VDSO_LAYOUT, KD_OK, "%s", desc);
	probe_arch_map_vdso(kd);
	return 0;
}
