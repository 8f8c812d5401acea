/* proc-maps: /proc/PID/smaps -> struct vma_list (see proc.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

#define DELETED_SUFFIX	   " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

static const struct {
	char mnemonic[3];
	uint64_t bit;
} vm_flag_names[] = {
	/* in the kernel's bit order (x86_64, 6.18), which is the order smaps prints them in */
	{ "rd", VMF_RD }, { "wr", VMF_WR }, { "ex", VMF_EX }, { "sh", VMF_SH }, { "mr", VMF_MR },
	{ "mw", VMF_MW }, { "me", VMF_ME }, { "ms", VMF_MS }, { "gd", VMF_GD }, { "pf", VMF_PF },
	{ "gu", VMF_GU }, { "dw", VMF_DW }, { "lo", VMF_LO }, { "io", VMF_IO }, { "sr", VMF_SR },
	{ "rr", VMF_RR }, { "dc", VMF_DC }, { "de", VMF_DE }, { "lf", VMF_LF }, { "ac", VMF_AC },
	{ "nr", VMF_NR }, { "ht", VMF_HT }, { "sf", VMF_SF }, { "nl", VMF_NL }, { "ar", VMF_AR },
	{ "wf", VMF_WF }, { "dd", VMF_DD }, { "bt", VMF_BT }, { "sd", VMF_SD }, { "mm", VMF_MM },
	{ "hg", VMF_HG }, { "nh", VMF_NH }, { "mg", VMF_MG }, { "um", VMF_UM }, { "uw", VMF_UW },
	{ "mt", VMF_MT }, { "ui", VMF_UI }, { "ss", VMF_SS }, { "dp", VMF_DP }, { "sl", VMF_SL },
};

enum smaps_type {
	SM_KB,	  /* "<n> kB" -> bytes */
	SM_INT,	  /* "<n>" */
	SM_FLAGS, /* VmFlags */
};

static const struct smaps_key {
	const char *key;
	enum smaps_type type;
	size_t off;
	bool required;
} smaps_keys[] = {
	{ "Size", SM_KB, offsetof(struct vma, size), true },
	{ "KernelPageSize", SM_KB, offsetof(struct vma, kernel_page_size), false },
	{ "MMUPageSize", SM_KB, offsetof(struct vma, mmu_page_size), false },
	{ "Rss", SM_KB, offsetof(struct vma, rss), true },
	{ "Pss", SM_KB, offsetof(struct vma, pss), false },
	{ "Pss_Dirty", SM_KB, offsetof(struct vma, pss_dirty), false },
	{ "Shared_Clean", SM_KB, offsetof(struct vma, shared_clean), false },
	{ "Shared_Dirty", SM_KB, offsetof(struct vma, shared_dirty), false },
	{ "Private_Clean", SM_KB, offsetof(struct vma, private_clean), false },
	{ "Private_Dirty", SM_KB, offsetof(struct vma, private_dirty), false },
	{ "Referenced", SM_KB, offsetof(struct vma, referenced), false },
	{ "Anonymous", SM_KB, offsetof(struct vma, anonymous), true },
	{ "KSM", SM_KB, offsetof(struct vma, ksm), false },
	{ "LazyFree", SM_KB, offsetof(struct vma, lazyfree), false },
	{ "AnonHugePages", SM_KB, offsetof(struct vma, anon_huge), false },
	{ "ShmemPmdMapped", SM_KB, offsetof(struct vma, shmem_pmd), false },
	{ "FilePmdMapped", SM_KB, offsetof(struct vma, file_pmd), false },
	{ "Shared_Hugetlb", SM_KB, offsetof(struct vma, shared_hugetlb), false },
	{ "Private_Hugetlb", SM_KB, offsetof(struct vma, private_hugetlb), false },
	{ "Swap", SM_KB, offsetof(struct vma, swap), true },
	{ "SwapPss", SM_KB, offsetof(struct vma, swap_pss), false },
	{ "Locked", SM_KB, offsetof(struct vma, locked), false },
	{ "THPeligible", SM_INT, offsetof(struct vma, thp_eligible), false },
	{ "ProtectionKey", SM_INT, offsetof(struct vma, pkey), false },
	{ "VmFlags", SM_FLAGS, 0, true },
};

#define N_SMAPS_KEYS ARRAY_SIZE(smaps_keys)

static const struct {
	const char *name;
	enum vma_kind kind;
} special_names[] = {
	{ "[heap]", VMA_HEAP },
	{ "[stack]", VMA_STACK },
	{ "[vdso]", VMA_VDSO },
	{ "[vvar]", VMA_VVAR },
	{ "[vvar_vclock]", VMA_VVAR_VCLOCK },
	{ "[vsyscall]", VMA_VSYSCALL },
	{ "[uprobes]", VMA_UPROBES },
};

#define ANON_PREFIX	  "[anon:"
#define ANON_SHMEM_PREFIX "[anon_shmem:"

void vma_list_free(struct vma_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A header starts with hex digits and '-'; no attribute key does. */
static bool is_header(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && is_hex(*p))
		p++;
	return p > s && p < end && *p == '-';
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static int classify_name(struct ptext *t, struct vma *v, size_t len)
{
	const char *s = v->name;

	if (s[0] != '[') {
		v->kind = VMA_FILE;
		v->deleted =
		    len >= DELETED_SUFFIX_LEN &&
		    memcmp(s + len - DELETED_SUFFIX_LEN, DELETED_SUFFIX, DELETED_SUFFIX_LEN) == 0;
		return 0;
	}
	if (len < 2 || s[len - 1] != ']')
		return pt_fail(t, "special name '%s' lacks its closing ']'", s);
	for (size_t i = 0; i < ARRAY_SIZE(special_names); i++) {
		if (strcmp(s, special_names[i].name) == 0) {
			v->kind = special_names[i].kind;
			return 0;
		}
	}
	if (has_prefix(s, len, ANON_SHMEM_PREFIX))
		v->kind = VMA_ANON_SHMEM_NAMED;
	else if (has_prefix(s, len, ANON_PREFIX))
		v->kind = VMA_ANON_NAMED;
	else
		v->kind = VMA_SPECIAL_OTHER;
	return 0;
}

/* "start-end perms pgoff major:minor inode [ name]" */
static int parse_header(struct ptext *t, struct vma *v)
{
	const char *p = t->line, *e = t->eol;
	uint64_t major, minor;
	char perm[4];

	if (!sp_u64(&p, e, 16, &v->start) || !sp_lit(&p, e, "-") || !sp_u64(&p, e, 16, &v->end) ||
	    !sp_lit(&p, e, " "))
		return pt_fail(t, "bad address range");
	if (v->start >= v->end)
		return pt_fail(t, "empty or inverted range %" PRIx64 "-%" PRIx64, v->start, v->end);
	if (e - p < 5 || p[4] != ' ')
		return pt_fail(t, "bad permissions");
	memcpy(perm, p, 4);
	if ((perm[0] != 'r' && perm[0] != '-') || (perm[1] != 'w' && perm[1] != '-') ||
	    (perm[2] != 'x' && perm[2] != '-') || (perm[3] != 's' && perm[3] != 'p'))
		return pt_fail(t, "bad permissions '%.4s'", perm);
	v->prot = (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
		  (perm[2] == 'x' ? PROT_EXEC : 0);
	v->shared = perm[3] == 's';
	p += 5;
	if (!sp_u64(&p, e, 16, &v->pgoff) || !sp_lit(&p, e, " "))
		return pt_fail(t, "bad offset");
	if (!sp_u64_range(&p, e, 16, 0xfff, &major) || !sp_lit(&p, e, ":") ||
	    !sp_u64_range(&p, e, 16, 0xfffff, &minor) || !sp_lit(&p, e, " "))
		return pt_fail(t, "bad device");
	v->dev = makedev(major, minor);
	if (!sp_u64(&p, e, 10, &v->inode) || !sp_lit(&p, e, " "))
		return pt_fail(t, "bad inode");
	sp_skip(&p, e, " ");
	v->kind = VMA_ANON;
	if (p == e)
		return 0;
	v->name = strndup(p, e - p);
	if (!v->name) {
		pr_err("out of memory for a VMA name\n");
		return -ENOMEM;
	}
	return classify_name(t, v, e - p);
}

static bool is_mnemonic(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int vma_flags_from_text(const char *p, const char *e, uint64_t *flags, char *unknown,
			const char **why)
{
	size_t used = 0, ntok = 0;

	*flags = 0;
	unknown[0] = '\0';
	for (;;) {
		const char *tok;
		size_t i;

		sp_skip(&p, e, " ");
		if (p == e)
			return 0;
		tok = p;
		while (p < e && *p != ' ')
			p++;
		if (p - tok != 2 || !is_mnemonic(tok[0]) || !is_mnemonic(tok[1])) {
			*why = tok;
			return -EINVAL;
		}
		if (++ntok > 64) {
			*why = NULL;
			return -E2BIG;
		}
		for (i = 0; i < ARRAY_SIZE(vm_flag_names); i++)
			if (memcmp(tok, vm_flag_names[i].mnemonic, 2) == 0)
				break;
		if (i < ARRAY_SIZE(vm_flag_names)) {
			*flags |= vm_flag_names[i].bit;
			continue;
		}
		/* ntok <= 64 keeps this within VMA_FLAGS_UNKNOWN_MAX */
		if (used)
			unknown[used++] = ' ';
		unknown[used++] = tok[0];
		unknown[used++] = tok[1];
		unknown[used] = '\0';
	}
}

void vma_flags_to_text(uint64_t flags, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(vm_flag_names) && used + 4 <= len; i++) {
		if (!(flags & vm_flag_names[i].bit))
			continue;
		if (used)
			buf[used++] = ' ';
		memcpy(buf + used, vm_flag_names[i].mnemonic, 2);
		used += 2;
		buf[used] = '\0';
	}
}

static int parse_vm_flags(struct ptext *t, struct vma *v, const char *p)
{
	const char *why = NULL;
	int ret = vma_flags_from_text(p, t->eol, &v->flags, v->flags_unknown, &why);

	if (ret == -E2BIG)
		return pt_fail(t, "more than 64 VmFlags");
	if (ret) {
		const char *end = why;

		while (end < t->eol && *end != ' ')
			end++;
		return pt_fail(t, "bad VmFlags mnemonic '%.*s'", (int)(end - why), why);
	}
	return 0;
}

static int parse_attr(struct ptext *t, struct vma *v, uint64_t *seen)
{
	const char *p = t->line, *e = t->eol, *key = p;
	size_t i, klen;

	while (p < e && (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			 (p > key && *p >= '0' && *p <= '9')))
		p++;
	klen = p - key;
	if (!klen || !sp_lit(&p, e, ":"))
		return pt_fail(t, "neither a VMA header nor a 'Key: value' line");
	for (i = 0; i < N_SMAPS_KEYS; i++)
		if (strlen(smaps_keys[i].key) == klen && memcmp(smaps_keys[i].key, key, klen) == 0)
			break;
	if (i == N_SMAPS_KEYS)
		return 0; /* a field of a newer kernel */
	if (*seen & (1ULL << i))
		return pt_fail(t, "%s given twice for one VMA", smaps_keys[i].key);
	*seen |= 1ULL << i;

	const struct smaps_key *k = &smaps_keys[i];
	uint64_t x;
	int64_t s;

	switch (k->type) {
	case SM_FLAGS:
		return parse_vm_flags(t, v, p);
	case SM_KB:
		sp_skip(&p, e, " ");
		if (!sp_u64_range(&p, e, 10, UINT64_MAX / 1024, &x) || !sp_lit(&p, e, " kB") ||
		    p != e)
			return pt_fail(t, "bad value of %s (want '<n> kB')", k->key);
		*(uint64_t *)((char *)v + k->off) = x * 1024;
		return 0;
	case SM_INT:
		sp_skip(&p, e, " ");
		if (!sp_s64_range(&p, e, INT_MIN, INT_MAX, &s) || p != e)
			return pt_fail(t, "bad value of %s", k->key);
		*(int *)((char *)v + k->off) = (int)s;
		return 0;
	}
	return 0;
}

static int finish_vma(const struct ptext *t, unsigned int hdr_line, const struct vma *v,
		      uint64_t seen)
{
	struct ptext h = *t;

	h.lineno = hdr_line;
	for (size_t i = 0; i < N_SMAPS_KEYS; i++)
		if (smaps_keys[i].required && !(seen & (1ULL << i)))
			return pt_fail(&h, "VMA %" PRIx64 "-%" PRIx64 " has no %s line", v->start,
				       v->end, smaps_keys[i].key);
	if (v->size != v->end - v->start)
		return pt_fail(&h, "VMA %" PRIx64 "-%" PRIx64 ": Size %" PRIu64 " kB != its range",
			       v->start, v->end, v->size / 1024);
	return 0;
}

int proc_parse_smaps_buf(const char *name, const char *buf, size_t len, struct vma_list *out)
{
	struct ptext t;
	unsigned int hdr_line = 0;
	uint64_t seen = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	while ((ret = pt_next_line(&t)) > 0) {
		if (!is_header(t.line, t.eol)) {
			if (!out->n) {
				ret = pt_fail(&t, "attribute line before the first VMA");
				break;
			}
			ret = parse_attr(&t, &out->v[out->n - 1], &seen);
			if (ret)
				break;
			continue;
		}
		if (out->n && (ret = finish_vma(&t, hdr_line, &out->v[out->n - 1], seen)))
			break;
		ret = proc_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		if (ret)
			break;
		struct vma *v = &out->v[out->n++];

		memset(v, 0, sizeof(*v));
		v->pkey = -1;
		hdr_line = t.lineno;
		seen = 0;
		ret = parse_header(&t, v);
		if (ret)
			break;
		if (out->n > 1 && v->start < out->v[out->n - 2].end) {
			ret = pt_fail(
			    &t, "VMA %" PRIx64 "-%" PRIx64 " overlaps or precedes the one before",
			    v->start, v->end);
			break;
		}
	}
	if (!ret && out->n)
		ret = finish_vma(&t, hdr_line, &out->v[out->n - 1], seen);
	if (ret)
		vma_list_free(out);
	return ret;
}

/* A name ending in " (deleted)" may be a live file of that very name: it is one when the name
 * (suffix included) leads, in the task's root, to the same dev:inode the VMA maps. */
static void resolve_deleted(pid_t pid, struct vma *v)
{
	char path[PATH_MAX + 64];
	struct stat st;
	int n;

	if (v->kind != VMA_FILE || !v->deleted || v->name[0] != '/')
		return;
	n = snprintf(path, sizeof(path), "/proc/%d/root%s", pid, v->name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	if (lstat(path, &st) == 0 && st.st_dev == v->dev && st.st_ino == v->inode) {
		pr_debug("pid %d: VMA %" PRIx64 " maps a live file named '%s'\n", pid, v->start,
			 v->name);
		v->deleted = false;
	}
}

static int parse_smaps(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_smaps_buf(name, buf, len, out);
}

int proc_parse_vmas(pid_t pid, struct vma_list *out)
{
	char path[64];
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	ret = proc_read_parse(path, parse_smaps, out);
	if (ret)
		return ret;
	for (size_t i = 0; i < out->n; i++)
		resolve_deleted(pid, &out->v[i]);
	return 0;
}

int proc_vma_flags_at(pid_t pid, uint64_t addr, uint64_t *flags)
{
	char path[64], *line = NULL, unknown[VMA_FLAGS_UNKNOWN_MAX + 1];
	size_t cap = 0;
	bool in = false;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* the kernel makes each VMA's lines as they are read: stopping at addr's spares it the
	 * page walks of every VMA above (a large heap's Rss) */
	while (ret == -ENOENT && getline(&line, &cap, f) > 0) {
		unsigned long long a, e;
		const char *why;

		if (sscanf(line, "%llx-%llx ", &a, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = a <= addr && addr < e;
		else if (in && !strncmp(line, "VmFlags:", 8))
			ret = vma_flags_from_text(line + 8, line + strcspn(line, "\n"), flags,
						  unknown, &why)
				  ? -EINVAL
				  : 0;
	}
	free(line);
	fclose(f);
	return ret;
}

size_t vma_name_len(const struct vma *v)
{
	size_t n;

	if (!v->name)
		return 0;
	n = strlen(v->name);
	return v->deleted ? n - DELETED_SUFFIX_LEN : n;
}

const char *vma_anon_name(const struct vma *v, size_t *len)
{
	size_t plen;

	if (v->kind == VMA_ANON_NAMED)
		plen = strlen(ANON_PREFIX);
	else if (v->kind == VMA_ANON_SHMEM_NAMED)
		plen = strlen(ANON_SHMEM_PREFIX);
	else
		return NULL;
	*len = strlen(v->name) - plen - 1;
	return v->name + plen;
}

bool vma_is_anon_private(const struct vma *v)
{
	return !v->shared && (v->kind == VMA_ANON || v->kind == VMA_HEAP || v->kind == VMA_STACK ||
			      v->kind == VMA_ANON_NAMED);
}

bool vma_is_anon_shared(const struct vma *v)
{
	if (!v->shared)
		return false;
	if (v->kind == VMA_ANON_SHMEM_NAMED)
		return true;
	return v->kind == VMA_FILE && v->deleted &&
	       strcmp(v->name, "/dev/zero" DELETED_SUFFIX) == 0;
}

bool vma_is_memfd(const struct vma *v)
{
	return v->kind == VMA_FILE && v->deleted && strncmp(v->name, "/memfd:", 7) == 0;
}

bool vma_is_sysv_shm(const struct vma *v)
{
	const char *s = v->name;

	if (v->kind != VMA_FILE || !v->deleted || strlen(s) != 5 + 8 + DELETED_SUFFIX_LEN ||
	    strncmp(s, "/SYSV", 5) != 0)
		return false;
	for (int i = 5; i < 13; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

bool vma_is_vdso_like(const struct vma *v)
{
	return v->kind == VMA_VDSO || v->kind == VMA_VVAR || v->kind == VMA_VVAR_VCLOCK ||
	       v->kind == VMA_VSYSCALL;
}
