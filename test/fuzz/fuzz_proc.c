/* fuzz_proc: libFuzzer target for the buffer-level /proc parsers of criu-lite/proc.h.
 *
 * The first input byte picks the parser (smaps, stat, status, fdinfo, auxv, children, timers,
 * an fdinfo lock line), the rest
 * is the file's text, copied into a heap buffer of exactly that size so that ASan reports any
 * read past it. Accepted results are checked against the parsers' promises; a broken promise
 * aborts. Build: `make fuzz`; run: build/fuzz/fuzz_proc -max_total_time=60 [corpus dir].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc-locks.h"
#include "criu-lite/proc/proc-timers.h"
#include "criu-lite/proc/proc.h"

#define PROMISE(x)               \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return log_init(NULL, LOG_MSG); /* malformed input is expected: keep errors quiet */
}

static void fuzz_smaps(const char *buf, size_t len)
{
	struct vma_list l;
	size_t alen;

	if (proc_parse_smaps_buf("fuzz", buf, len, &l))
		return;
	for (size_t i = 0; i < l.n; i++) {
		const struct vma *v = &l.v[i];

		PROMISE(v->start < v->end && v->size == v->end - v->start);
		PROMISE(!i || l.v[i - 1].end <= v->start);
		PROMISE((v->name == NULL) == (v->kind == VMA_ANON));
		PROMISE(vma_name_len(v) <= (v->name ? strlen(v->name) : 0));
		PROMISE(strlen(v->flags_unknown) < sizeof(v->flags_unknown));
		if (vma_anon_name(v, &alen))
			PROMISE(alen < strlen(v->name));
		(void)(vma_is_anon_private(v) + vma_is_anon_shared(v) + vma_is_memfd(v) +
		       vma_is_sysv_shm(v) + vma_is_vdso_like(v));
	}
	vma_list_free(&l);
}

static void fuzz_status(const char *buf, size_t len)
{
	struct proc_status s;

	if (proc_parse_status_buf("fuzz", buf, len, &s))
		return;
	PROMISE(s.ns_levels >= 1 && s.ns_levels <= PROC_NS_LEVELS);
	PROMISE(strlen(s.name) < sizeof(s.name));
	PROMISE((s.groups == NULL) == (s.n_groups == 0));
	proc_status_free(&s);
}

static void fuzz_fdinfo(const char *buf, size_t len)
{
	struct proc_fdinfo fi;

	if (proc_parse_fdinfo_buf("fuzz", buf, len, &fi))
		return;
	for (size_t i = 0; i < fi.n_lines; i++) {
		PROMISE(fi.lines[i].key[0] != '\0');
		PROMISE(proc_fdinfo_value(&fi, fi.lines[i].key, 0) != NULL);
		PROMISE(proc_fdinfo_count(&fi, fi.lines[i].key) >= 1);
	}
	proc_fdinfo_free(&fi);
}

static void fuzz_timers(const char *buf, size_t len)
{
	struct proc_timer_list l;

	if (proc_parse_timers_buf("fuzz", buf, len, &l))
		return;
	for (size_t i = 1; i < l.n; i++)
		PROMISE(l.v[i - 1].id < l.v[i].id);
	proc_timer_list_free(&l);
}

/* The lock-line parser takes a C string: the copy gets a NUL at its end. */
static void fuzz_lock_line(const char *buf, size_t len)
{
	char *line = malloc(len + 1);
	struct proc_lock lk;

	if (!line)
		return;
	memcpy(line, buf, len);
	line[len] = 0;
	if (!proc_parse_lock_line("fuzz", line, &lk)) {
		PROMISE(lk.kind >= PROC_LOCK_FLOCK && lk.kind <= PROC_LOCK_OTHER);
		PROMISE(lk.start <= lk.end);
		PROMISE(strlen(lk.kind_name) < sizeof(lk.kind_name));
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t words[64];
	struct proc_stat st;
	struct pid_list pl;
	size_t len, n;
	char *buf;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	switch (data[0] % 8) {
	case 0:
		fuzz_smaps(buf, len);
		break;
	case 1:
		if (!proc_parse_stat_buf("fuzz", buf, len, &st))
			PROMISE(st.pid > 0 && strlen(st.comm) < sizeof(st.comm));
		break;
	case 2:
		fuzz_status(buf, len);
		break;
	case 3:
		fuzz_fdinfo(buf, len);
		break;
	case 4:
		if (!proc_parse_auxv_buf("fuzz", buf, len, words, 64, &n))
			PROMISE(n >= 2 && n % 2 == 0 && n <= 64 && words[n - 2] == 0);
		break;
	case 5:
		if (!proc_parse_children_buf("fuzz", buf, len, &pl)) {
			for (size_t i = 0; i < pl.n; i++)
				PROMISE(pl.v[i] > 0);
			pid_list_free(&pl);
		}
		break;
	case 6:
		fuzz_timers(buf, len);
		break;
	case 7:
		fuzz_lock_line(buf, len);
		break;
	}
	free(buf);
	return 0;
}
