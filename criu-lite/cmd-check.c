/* cmd-check: `criu-lite check [--json] [--all]`. Runs the kerndat probes,
 * prints one line per probe (OK / missing / not probed, with why), then which
 * criu-lite features each missing item disables, what a lazy migration's ends need and whether
 * the network lock works here (netlock_check: a probe table added and removed in this network
 * namespace) and whether veth pairs can be made again (veth_check: in throwaway namespaces);
 * informational, as the migration lines are). Exit 0 when the core set
 * (kerndat_core_ok) works, 1 otherwise or when --all could not undo its swap. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "criu-lite/cli.h"
#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "criu-lite/track/track.h"
#include "criu-lite/net/veth-check.h"
#include "lazy-pages/ps-landlock.h"
#include "lazy-pages/xfer-conn.h"

#define NAME_COL 36 /* status column of the text report */

struct effect {
	char cause[112]; /* the missing item(s) */
	const char *what;
};

struct effects {
	struct effect e[KD_NR + 4];
	int nr;
};

/* netlock_check()'s and veth_check()'s answers */
struct lock_check {
	bool ok;
	char why[256];
	bool veth_ok;
	char veth_why[256];
};

static const char *status_str(enum kd_status st)
{
	return st == KD_OK ? "OK" : st == KD_MISSING ? "missing" : "not probed";
}

static void add(struct effects *ef, const char *cause, const char *what)
{
	if (ef->nr == (int)(sizeof(ef->e) / sizeof(ef->e[0])))
		return;
	snprintf(ef->e[ef->nr].cause, sizeof(ef->e[0].cause), "%s", cause);
	ef->e[ef->nr].what = what;
	ef->nr++;
}

/* "soft-dirty + uffd WP_ASYNC": the items of ids[] that are not OK */
static void cause_of(const struct kerndat *kd, const enum kd_id *ids, int n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		if (!kd_has(kd, ids[i]))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " + " : "",
					      kerndat_name(ids[i]));
}

/* what a missing item takes away, for items with one fixed consequence */
static const char *const single_effect[KD_NR] = {
	[KD_PTRACE_SEIZE] = "dump and pre-dump (the tree cannot be frozen)",
	[KD_CLONE3_SET_TID] = "restore (tasks cannot get their original pids)",
	[KD_PIDFD] = "dump of file descriptors (pidfd_getfd)",
	[KD_PROCESS_VM] = "dump and restore of memory contents",
	[KD_MEMFD] = "restore of shared memory",
	[KD_VDSO_LAYOUT] = "restore (the vDSO block cannot be placed)",
	[KD_ARCH_MAP_VDSO] = "restore (the vDSO block cannot be placed)",
	[KD_XSTATE] = "dump of extended register state (AVX, AVX-512, AMX)",
	[KD_SUSPEND_SECCOMP] = "dump and restore of tasks under seccomp (filters or strict mode)",
	[KD_TIMENS] = "restore of tasks in time namespaces",
	[KD_UFFD] = "lazy restore and uffd-wp dirty tracking",
	[KD_UFFD_EVENT_FORK] = "lazy restore (forks of lazily restored tasks)",
	[KD_UFFD_EVENT_REMAP] = "lazy restore (mremap of lazy memory)",
	[KD_UFFD_EVENT_REMOVE] = "lazy restore (MADV_DONTNEED/REMOVE of lazy memory)",
	[KD_UFFD_EVENT_UNMAP] = "lazy restore (munmap of lazy memory)",
	[KD_UFFD_MISSING_SHMEM] = "lazy restore of shared memory (restored eagerly instead)",
	[KD_UFFD_MINOR_SHMEM] = "lazy restore of shared memory (restored eagerly instead)",
	[KD_UFFD_EXACT_ADDRESS] = "exact fault addresses in lazy-pages logs (page-aligned only)",
	[KD_PAGEMAP_SCAN] = "pagemap read fallback, no uffd-wp tracking",
	[KD_SHMEM_PM_SWAP] = "nothing; swapped shmem is located through SEEK_DATA instead",
	[KD_GUARD_INSTALL] = "restore of guard regions (dumps holding them are refused)",
	[KD_GUARD_PAGEMAP] = "dump of guard regions (a VMA marked gu is refused; without that "
			     "flag guards are not seen and are lost)",
	[KD_MSEAL] = "restore of sealed mappings",
	[KD_MAP_DROPPABLE] = "restore of MAP_DROPPABLE mappings",
};

static void disabled_features(const struct kerndat *kd, struct effects *ef)
{
	static const enum kd_id wp[] = { KD_UFFD_WP_ASYNC, KD_UFFD_WP_UNPOPULATED,
					 KD_PAGEMAP_SCAN };
	static const enum kd_id all[] = { KD_SOFT_DIRTY, KD_UFFD_WP_ASYNC, KD_UFFD_WP_UNPOPULATED,
					  KD_PAGEMAP_SCAN };
	bool uffd_wp = kd_has(kd, KD_UFFD) && kd_has(kd, KD_UFFD_WP_ASYNC) &&
		       kd_has(kd, KD_UFFD_WP_UNPOPULATED) && kd_has(kd, KD_PAGEMAP_SCAN);
	bool sd = kd_has(kd, KD_SOFT_DIRTY);
	char cause[112];

	memset(ef, 0, sizeof(*ef));
	for (int id = 0; id < KD_NR; id++) {
		enum kd_status st = kd->item[id].status;

		if (!single_effect[id] || st == KD_OK)
			continue;
		/* unknown is not missing, except for the core set: it must be known to work */
		if (st == KD_NOT_PROBED && !kerndat_is_core(id))
			continue;
		/* every feature bit is missing when userfaultfd itself is */
		if (id > KD_UFFD && id <= KD_UFFD_EXACT_ADDRESS && !kd_has(kd, KD_UFFD))
			continue;
		snprintf(cause, sizeof(cause), "%s%s", kerndat_name(id),
			 st == KD_NOT_PROBED ? " (not probed)" : "");
		add(ef, cause, single_effect[id]);
	}
	/* dirty tracking for pre-dump: soft-dirty, or uffd-wp async + PAGEMAP_SCAN */
	if (!sd && uffd_wp) {
		add(ef, kerndat_name(KD_SOFT_DIRTY),
		    "pre-dump uses userfaultfd WP_ASYNC + PAGEMAP_SCAN instead");
	} else if (!sd) {
		cause_of(kd, all, 4, cause, sizeof(cause));
		add(ef, cause,
		    "pre-dump and dump --track-mem unavailable (no dirty-page tracking)");
	} else if (!uffd_wp) {
		cause_of(kd, wp, 3, cause, sizeof(cause));
		add(ef, cause, "pre-dump uses soft-dirty instead of uffd-wp tracking");
	}
}

/* The dirty-tracking backend pre-dump would use here, and why (track.h). */
static const char *tracking(const struct kerndat *kd, char *why, size_t len)
{
	const char *w;
	enum track_backend be = track_choose(kd, NULL, &w);

	if (be == TRACK_SOFT_DIRTY)
		snprintf(why, len, "the kernel keeps soft-dirty bits");
	else if (be == TRACK_UFFD_WP)
		snprintf(why, len,
			 "no soft-dirty bits here: userfaultfd write-protect (async) + "
			 "PAGEMAP_SCAN; the task holds a userfaultfd between rounds");
	else
		snprintf(why, len, "%s: pre-dump is refused", w);
	return track_backend_name(be);
}

/* A lazy migration's ends: the source needs the core set (it dumps, and reads the frozen
 * tree's memory through /proc/PID/mem); the destination what restore --lazy-pages needs. */
static bool can_be_source(const struct kerndat *kd, bool core_ok)
{
	(void)kd;
	return core_ok;
}

static bool can_be_destination(const struct kerndat *kd, bool core_ok)
{
	static const enum kd_id need[] = { KD_UFFD, KD_UFFD_EVENT_FORK, KD_UFFD_EVENT_REMAP,
					   KD_UFFD_EVENT_REMOVE, KD_UFFD_EVENT_UNMAP };

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!kd_has(kd, need[i]))
			return false;
	return core_ok;
}

static void print_text(const struct kerndat *kd, const struct effects *ef, bool core_ok,
		       const struct lock_check *lk)
{
	static const char leader[NAME_COL + 1] = "....................................";
	struct utsname u;

	if (uname(&u) == 0)
		printf("criu-lite check: Linux %s %s\n", u.release, u.machine);
	for (int id = 0; id < KD_NR; id++) {
		const struct kd_item *it = &kd->item[id];
		const char *name = kerndat_name(id);
		int dots = NAME_COL - (int)strlen(name) - 1;

		printf("  %s %.*s %s", name, dots < 2 ? 2 : dots, leader, status_str(it->status));
		if (it->detail[0])
			printf(" (%s)", it->detail);
		printf("\n");
	}
	printf("\nDisabled features:\n");
	if (!ef->nr)
		printf("  none\n");
	for (int i = 0; i < ef->nr; i++)
		printf("  %s%s: %s\n", ef->e[i].cause,
		       strstr(ef->e[i].cause, "(not probed)") ? "" : " missing", ef->e[i].what);
	printf("\nLazy migration (TLS: GnuTLS %s):\n", xfer_tls_version());
	printf("  as a source (dump --lazy-pages) ............ %s\n",
	       can_be_source(kd, core_ok) ? "OK" : "no: the core set is missing");
	printf("  as a destination (restore --lazy-pages) .... %s\n",
	       can_be_destination(kd, core_ok) ? "OK"
					       : "no: userfaultfd with its events is missing");
	{
		int abi = ps_landlock_abi();

		if (abi > 0)
			printf(
			    "  page server's confinement .................. seccomp and Landlock "
			    "(ABI %d)\n",
			    abi);
		else
			printf("  page server's confinement .................. seccomp only "
			       "(Landlock: %s)\n",
			       strerror(-abi));
	}
	printf("\nNetwork lock (TCP connections dropped, not reset, while dumped):\n");
	printf("  nftables (libnftables) ..................... %s%s\n",
	       lk->ok ? "OK" : "no: ", lk->ok ? "" : lk->why);
	{
		char why[160];
		const char *be = tracking(kd, why, sizeof(why));

		printf("\nDirty tracking (pre-dump, dump --prev-images-dir, --track-mem):\n");
		printf("  backend .................................... %s (%s)\n", be, why);
	}
	printf("\nNetwork namespaces of their own (netns.img):\n");
	printf("  veth pairs made again ...................... %s%s\n",
	       lk->veth_ok ? "OK" : "no: ", lk->veth_ok ? "" : lk->veth_why);
	printf("\nCore set: %s", core_ok ? "OK" : "FAILED:");
	for (int id = 0; id < KD_NR; id++)
		if (kerndat_is_core(id) && !kd_has(kd, id))
			printf(" %s", kerndat_name(id));
	printf("\n");
}

static json_object *json_values(const struct kerndat *kd)
{
	json_object *v = json_object_new_object(), *parts = json_object_new_array();
	char hex[32];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)kd->uffd_features);
	json_object_object_add(v, "uffd_features", json_object_new_string(hex));
	json_object_object_add(v, "xstate_size", json_object_new_int64(kd->xstate_size));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)kd->xcr0);
	json_object_object_add(v, "xcr0", json_object_new_string(hex));
	for (unsigned int i = 0; i < kd->vdso.nr_parts; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(
		    p, "name",
		    json_object_new_string(kerndat_vdso_kind_name(kd->vdso.part[i].kind)));
		json_object_object_add(p, "size",
				       json_object_new_int64((int64_t)kd->vdso.part[i].size));
		json_object_array_add(parts, p);
	}
	json_object_object_add(v, "vdso_layout", parts);
	json_object_object_add(v, "vsyscall_size",
			       json_object_new_int64((int64_t)kd->vdso.vsyscall_size));
	return v;
}

static int print_json(const struct kerndat *kd, const struct effects *ef, bool core_ok,
		      const struct lock_check *lk)
{
	json_object *root = json_object_new_object(), *probes = json_object_new_array();
	json_object *dis = json_object_new_array();
	struct utsname u;
	const char *s;

	if (uname(&u) == 0) {
		json_object_object_add(root, "kernel", json_object_new_string(u.release));
		json_object_object_add(root, "machine", json_object_new_string(u.machine));
	}
	for (int id = 0; id < KD_NR; id++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "name", json_object_new_string(kerndat_name(id)));
		json_object_object_add(p, "status",
				       json_object_new_string(status_str(kd->item[id].status)));
		json_object_object_add(p, "detail", json_object_new_string(kd->item[id].detail));
		json_object_object_add(p, "core", json_object_new_boolean(kerndat_is_core(id)));
		json_object_array_add(probes, p);
	}
	json_object_object_add(root, "probes", probes);
	json_object_object_add(root, "values", json_values(kd));
	for (int i = 0; i < ef->nr; i++) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "missing", json_object_new_string(ef->e[i].cause));
		json_object_object_add(d, "disables", json_object_new_string(ef->e[i].what));
		json_object_array_add(dis, d);
	}
	json_object_object_add(root, "disabled_features", dis);
	json_object_object_add(root, "core_ok", json_object_new_boolean(core_ok));
	json_object_object_add(root, "migration_source",
			       json_object_new_boolean(can_be_source(kd, core_ok)));
	json_object_object_add(root, "migration_destination",
			       json_object_new_boolean(can_be_destination(kd, core_ok)));
	json_object_object_add(root, "tls", json_object_new_string(xfer_tls_version()));
	json_object_object_add(root, "network_lock", json_object_new_boolean(lk->ok));
	json_object_object_add(root, "network_lock_detail", json_object_new_string(lk->why));
	{
		char why[160];
		const char *be = tracking(kd, why, sizeof(why));

		json_object_object_add(root, "tracking", json_object_new_string(be));
		json_object_object_add(root, "tracking_detail", json_object_new_string(why));
	}
	json_object_object_add(root, "veth", json_object_new_boolean(lk->veth_ok));
	json_object_object_add(root, "veth_detail", json_object_new_string(lk->veth_why));
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		pr_err("check: could not format the JSON report\n");
		json_object_put(root);
		return -1;
	}
	printf("%s\n", s);
	json_object_put(root);
	return 0;
}

int cmd_check(const struct opts *o)
{
	unsigned int flags = KD_PROBE_DEFAULT | (o->all ? KD_PROBE_SWAP : 0);
	struct lock_check lk = { 0 };
	struct effects ef;
	struct kerndat kd;
	bool core_ok;
	int ret;

	/* always probed; this refreshes what dump and restore keep (kerndat_get()) */
	ret = o->all ? kerndat_probe(&kd, flags) : kerndat_get(&kd, flags, true);
	core_ok = kerndat_core_ok(&kd);
	disabled_features(&kd, &ef);
	lk.ok = netlock_check(lk.why, sizeof(lk.why)) == 0;
	lk.veth_ok = veth_check(lk.veth_why, sizeof(lk.veth_why)) == 0;
	if (o->json) {
		if (print_json(&kd, &ef, core_ok, &lk))
			ret = -1;
	} else {
		print_text(&kd, &ef, core_ok, &lk);
	}
	fflush(stdout);
	return ret || !core_ok ? 1 : 0;
}
