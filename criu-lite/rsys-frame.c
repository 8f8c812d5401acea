/* rsys-frame: what makes a thread that rsys borrows resume exactly as it was if criu-lite dies
 * in the middle (SIGKILL, a crash): nothing of it needs a live tracer to be undone.
 *
 * The idea is the kernel's own signal return. Before the thread runs anything of ours, a real
 * x86-64 rt_sigframe is written on its stack, below its red zone: the registers it was stopped
 * with (an interrupted syscall already rewound to be executed again: rip - 2, rax = the
 * syscall's number), its signal mask, its full xstate (XSAVE as ptrace gives it, with the
 * software bytes and the end marker a signal frame has instead of ptrace's XCR0), an
 * alternate-stack field the kernel ignores, and as return address a `mov $15, %rax; syscall`
 * (rt_sigreturn) found in the thread's own code: glibc's and musl's __restore_rt. Every remote
 * syscall then runs at a `syscall; xor...; ret` of the [vdso] with rsp at the frame. A live tracer
 * stops the thread at the syscall's exit and sets the next call up; when the tracer is gone, the
 * thread goes on: `ret` pops the return address, rt_sigreturn puts back registers, mask and xstate,
 * and the interrupted syscall runs again. The memory below the stack pointer is not the program's
 * (a signal handler's frame goes there too), so nothing it can see is left behind; no mapping is
 * created.
 *
 * Contract: rsys_frame_setup() prepares r for this when it can: the [vdso] gadget, the
 * restorer, a stack with room under rsp, and the xstate (PTRACE_GETREGSET NT_X86_XSTATE); it
 * writes the frame and sets r->frame (the address of its return-address word: rsp while a call
 * runs) and r->gadget, and returns 0. When something is missing it returns -ENOENT with the
 * reason logged at info level, and rsys goes on without a frame (a dying tracer then leaves the
 * thread damaged, as before). Other errors are -errno. rsys_frame_scratch() hands out room
 * under the frame, on the same stack, for rsys_scratch().
 *
 * A call that changes the task (a probe mapping) can have its undo armed: rsys_frame_undo()
 * writes a second frame under the scratch room, whose registers are the undo syscall at the
 * gadget with rsp at the first frame, and gives its address. A call run with rsp there returns
 * into it when no tracer stops it: the thread runs the undo, and the undo's `ret` returns into
 * the first frame as usual. That frame has no xstate (sigreturn resets the FPU, which the first
 * frame then restores) and blocks every signal. */
#define LOG_PREFIX     "rsys: "
#define RESTORER_CACHE "/run/criu-lite/restorer" /* beside the kerndat cache */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/rsys-int.h"
#include "criu-lite/rsys.h"

#define RED_ZONE	 128
#define XSTATE_MAX	 (64 * 1024)
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define UC_FP_XSTATE	 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_SS	 0x4
#define SCRATCH_ROOM	 (16 * 1024) /* what rsys_scratch() may take from the stack */
#define UNDO_ROOM	 512	     /* the undo frame, under the scratch room */
#define GADGET_SCAN	 24	     /* bytes after a `syscall` to look for its `ret` */
#define FX_SW_OFFSET	 464	     /* the legacy area's software bytes */

/* The kernel's x86-64 signal frame (arch/x86/include/asm/sigframe.h, uapi sigcontext.h). */
struct ksigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t di, si, bp, bx, dx, ax, cx, sp, ip, flags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct kucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags;
		int32_t pad;
		uint64_t ss_size;
	} uc_stack;
	struct ksigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct krt_sigframe {
	uint64_t pretcode;
	struct kucontext uc;
	uint8_t info[128];
};

_Static_assert(sizeof(struct ksigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(sizeof(struct krt_sigframe) == 440, "struct rt_sigframe is 440 bytes");

/* The [vdso] or the first executable mapping whose path holds name: [start, end) and its
 * path, or -ENOENT. */
static int find_mapping(pid_t tid, const char *name, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && perms[2] == 'x' &&
		    strstr(line, name)) {
			*start = s;
			*end = e;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* Bytes after a `syscall` that only clear registers the frame restores anyway, then `ret`. */
static bool clears_then_ret(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == 0xc3)
			return true;
		if (p[i] == 0x31 && i + 1 < n && (p[i + 1] & 0xc0) == 0xc0) /* xor r32,r32 */
			i += 2;
		else if ((p[i] == 0x45 || p[i] == 0x48 || p[i] == 0x4d) && i + 2 < n &&
			 p[i + 1] == 0x31 && (p[i + 2] & 0xc0) == 0xc0) /* REX xor */
			i += 3;
		else
			return false;
	}
	return false;
}

/* A `syscall` of [vdso] followed by clears and `ret`. */
static int find_gadget(struct rsys *r, uint64_t *gadget)
{
	uint64_t s = 0, e = 0;
	uint8_t *buf;
	int ret = find_mapping(r->tid, "[vdso]", &s, &e);

	if (ret || e - s > (1 << 20))
		return -ENOENT;
	buf = malloc(e - s);
	if (!buf)
		return -ENOMEM;
	ret = rsys_mem_read(r, s, buf, e - s);
	if (!ret) {
		ret = -ENOENT;
		for (size_t i = 0; i + 2 < e - s; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05 &&
			    clears_then_ret(buf + i + 2, e - s - i - 2 < GADGET_SCAN
							     ? e - s - i - 2
							     : GADGET_SCAN)) {
				*gadget = s + i;
				ret = 0;
				break;
			}
	}
	free(buf);
	return ret;
}

/* The executable mapping of the thread's C library: its range, and "DEV INODE PGOFF SIZE" of
 * its maps line (what the restorer's offset in it is cached by). */
static int find_libc(pid_t tid, uint64_t *start, uint64_t *end, char *key, size_t len)
{
	static const char *const libs[] = { "/libc.so", "/libc-", "/ld-musl", "libc.musl" };
	char path[64], line[512];
	int ret = -ENOENT;

	for (size_t i = 0; ret && i < sizeof(libs) / sizeof(libs[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", tid);
		if (!(f = fopen(path, "re")))
			return -errno;
		while (ret && fgets(line, sizeof(line), f)) {
			unsigned long s, e, off, ino;
			char perms[5], dev[16];

			if (sscanf(line, "%lx-%lx %4s %lx %15s %lu", &s, &e, perms, &off, dev,
				   &ino) == 6 &&
			    perms[2] == 'x' && strstr(line, libs[i])) {
				*start = s;
				*end = e;
				snprintf(key, len, "%s %lu %lx %lx", dev, ino, off, e - s);
				ret = 0;
			}
		}
		fclose(f);
	}
	return ret;
}

/* The offset kept for key, or -1. */
static long cached_offset(const char *key)
{
	char line[160];
	size_t kl = strlen(key);
	long off = -1;
	FILE *f = fopen(RESTORER_CACHE, "re");

	while (f && off < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			off = strtol(line + kl + 1, NULL, 16);
	if (f)
		fclose(f);
	return off;
}

/* key's offset put in the cache (its other lines kept, up to 15): best effort. */
static void cache_offset(const char *key, uint64_t off)
{
	char line[160], tmp[] = RESTORER_CACHE ".XXXXXX";
	size_t kl = strlen(key);
	int fd, n = 0;
	FILE *in, *out;

	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return;
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(out, "%s %" PRIx64 "\n", key, off);
	in = fopen(RESTORER_CACHE, "re");
	while (in && n < 15 && fgets(line, sizeof(line), in))
		if (strncmp(line, key, kl) && strchr(line, '\n') && ++n)
			fputs(line, out);
	if (in)
		fclose(in);
	if (fclose(out) || rename(tmp, RESTORER_CACHE))
		unlink(tmp);
}

/* `mov $15, %rax; syscall` (or `mov $15, %eax; syscall`) in the thread's C library. Where it
 * was found is kept by the library file's identity (RESTORER_CACHE): the next dump reads those
 * few bytes instead of the whole library (1.4 MB of glibc: ~4 ms a task), and scans again if
 * they are not what they should be. */
static int find_restorer(struct rsys *r, uint64_t *at)
{
	static const uint8_t rt64[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	static const uint8_t rt32[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	uint64_t s = 0, e = 0, off;
	uint8_t *buf, b[sizeof(rt64)];
	char key[96];
	long c;
	int ret = find_libc(r->tid, &s, &e, key, sizeof(key));

	if (ret || e - s > (64 << 20))
		return -ENOENT;
	c = cached_offset(key);
	if (c >= 0 && (uint64_t)c + sizeof(rt64) <= e - s &&
	    !rsys_mem_read(r, s + (uint64_t)c, b, sizeof(b)) &&
	    (!memcmp(b, rt64, sizeof(rt64)) || !memcmp(b, rt32, sizeof(rt32)))) {
		*at = s + (uint64_t)c;
		return 0;
	}
	buf = malloc(e - s);
	if (!buf)
		return -ENOMEM;
	ret = rsys_mem_read(r, s, buf, e - s);
	if (!ret) {
		uint8_t *p = memmem(buf, e - s, rt64, sizeof(rt64));

		if (!p)
			p = memmem(buf, e - s, rt32, sizeof(rt32));
		off = p ? (uint64_t)(p - buf) : 0;
		ret = p ? 0 : -ENOENT;
		if (p) {
			*at = s + off;
			cache_offset(key, off);
		}
	}
	free(buf);
	return ret;
}

/* Room under sp on the stack: the VMA that holds sp must reach down to low. */
static bool stack_has(pid_t tid, uint64_t sp, uint64_t low)
{
	char path[64], line[512];
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && s < sp && sp <= e) {
			ok = s <= low && perms[0] == 'r' && perms[1] == 'w';
			break;
		}
	}
	fclose(f);
	return ok;
}

/* The registers the thread goes back to: an interrupted syscall is set to run again. */
static void resume_regs(const struct user_regs_struct *in, struct ksigcontext *sc)
{
	struct user_regs_struct g = *in;

	if (rsys_restarts((long)g.orig_rax, (long)g.rax)) {
		g.rax = g.orig_rax;
		g.rip -= 2;
	}
	*sc = (struct ksigcontext){
		.r8 = g.r8,
		.r9 = g.r9,
		.r10 = g.r10,
		.r11 = g.r11,
		.r12 = g.r12,
		.r13 = g.r13,
		.r14 = g.r14,
		.r15 = g.r15,
		.di = g.rdi,
		.si = g.rsi,
		.bp = g.rbp,
		.bx = g.rbx,
		.dx = g.rdx,
		.ax = g.rax,
		.cx = g.rcx,
		.sp = g.rsp,
		.ip = g.rip,
		.flags = g.eflags,
		.cs = (uint16_t)g.cs,
		.ss = (uint16_t)g.ss,
	};
}

int rsys_frame_setup(struct rsys *r)
{
	struct krt_sigframe fr = { 0 };
	uint64_t restorer, gadget, xs_at, frame_at;
	struct iovec iov;
	uint8_t *xs, *img;
	size_t xs_len, img_len;
	uint32_t magic2 = FP_XSTATE_MAGIC2, sw[2];
	uint64_t xcr0;
	int ret;

	if ((ret = find_gadget(r, &gadget))) {
		pr_info(
		    "thread %d: no `syscall; ret` in [vdso]: remote calls are not self-healing\n",
		    r->tid);
		return ret;
	}
	if ((ret = find_restorer(r, &restorer))) {
		pr_info("thread %d: no rt_sigreturn sequence in its C library: remote calls are "
			"not self-healing\n",
			r->tid);
		return ret;
	}
	xs = malloc(XSTATE_MAX);
	if (!xs)
		return -ENOMEM;
	iov = (struct iovec){ xs, XSTATE_MAX };
	if (ptrace(PTRACE_GETREGSET, r->tid, NT_X86_XSTATE, &iov)) {
		ret = -errno;
		pr_perror("thread %d: can't read its xstate", r->tid);
		free(xs);
		return ret;
	}
	xs_len = iov.iov_len;
	if (xs_len < 576) {
		pr_info("thread %d: its xstate is only %zu bytes (no XSAVE): remote calls are not "
			"self-healing\n",
			r->tid, xs_len);
		free(xs);
		return -ENOENT;
	}
	/* ptrace keeps XCR0 in the legacy area's software bytes; a signal frame keeps there
	 * what the kernel checks before it restores the xstate (struct _fpx_sw_bytes) */
	memcpy(&xcr0, xs + FX_SW_OFFSET, sizeof(xcr0));
	memset(xs + FX_SW_OFFSET, 0, 48);
	sw[0] = FP_XSTATE_MAGIC1;
	sw[1] = (uint32_t)(xs_len + sizeof(magic2)); /* extended_size */
	memcpy(xs + FX_SW_OFFSET, sw, 2 * sizeof(uint32_t));
	memcpy(xs + FX_SW_OFFSET + 8, &xcr0, sizeof(xcr0)); /* xfeatures */
	sw[0] = (uint32_t)xs_len;			    /* xstate_size */
	memcpy(xs + FX_SW_OFFSET + 16, sw, sizeof(uint32_t));
	/* from the top: red zone, xstate (64-aligned) + magic2, then the frame (16-aligned so
	 * that, like a real frame, rsp + 8 is 16-aligned at the restorer) */
	xs_at = (r->regs.rsp - RED_ZONE - xs_len - sizeof(magic2)) & ~63ULL;
	frame_at = ((xs_at - sizeof(fr)) & ~15ULL) - 8;
	if (!stack_has(r->tid, r->regs.rsp, frame_at - SCRATCH_ROOM - UNDO_ROOM)) {
		pr_info("thread %d: no room on its stack under %#llx: remote calls are not "
			"self-healing\n",
			r->tid, r->regs.rsp);
		free(xs);
		return -ENOENT;
	}
	fr.pretcode = restorer;
	fr.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_SS;
	fr.uc.uc_stack.ss_flags = 7; /* not a valid mode: sigreturn keeps the alternate stack */
	resume_regs(&r->regs, &fr.uc.uc_mcontext);
	fr.uc.uc_mcontext.fpstate = xs_at;
	fr.uc.uc_sigmask = r->sigmask;
	img_len = (size_t)(xs_at + xs_len + sizeof(magic2) - frame_at);
	img = calloc(1, img_len);
	if (!img) {
		free(xs);
		return -ENOMEM;
	}
	memcpy(img, &fr, sizeof(fr));
	memcpy(img + (xs_at - frame_at), xs, xs_len);
	memcpy(img + (xs_at - frame_at) + xs_len, &magic2, sizeof(magic2));
	ret = rsys_write(r, frame_at, img, img_len);
	free(img);
	free(xs);
	if (ret)
		return ret;
	r->frame = frame_at;
	r->gadget = gadget;
	r->restorer = restorer;
	pr_debug("thread %d: self-healing frame at %#" PRIx64 ", gadget %#" PRIx64
		 ", restorer %#" PRIx64 "\n",
		 r->tid, frame_at, gadget, restorer);
	return 0;
}

int rsys_frame_scratch(struct rsys *r, size_t len, uint64_t *at)
{
	uint64_t want = (r->frame - len) & ~63ULL;

	if (!r->frame || len > SCRATCH_ROOM)
		return -ENOSPC;
	*at = want;
	return 0;
}

void rsys_frame_span(const struct rsys *r, uint64_t *lo, uint64_t *hi)
{
	*lo = ((r->frame - SCRATCH_ROOM - UNDO_ROOM) & ~63ULL) - 64;
	*hi = r->regs.rsp - RED_ZONE;
}

int rsys_frame_undo(struct rsys *r, long nr, const long a[6], uint64_t *sp)
{
	struct krt_sigframe fr = { 0 };
	uint64_t at;
	int ret;

	if (!r->frame)
		return -ENOENT;
	at = ((r->frame - SCRATCH_ROOM - sizeof(fr)) & ~15ULL) - 8;
	fr.pretcode = r->restorer;
	fr.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_SS;
	fr.uc.uc_stack.ss_flags = 7; /* keeps the alternate stack, as in the first frame */
	resume_regs(&r->regs, &fr.uc.uc_mcontext);
	fr.uc.uc_mcontext.ip = r->gadget;
	fr.uc.uc_mcontext.sp = r->frame;
	fr.uc.uc_mcontext.ax = (uint64_t)nr;
	fr.uc.uc_mcontext.di = (uint64_t)a[0];
	fr.uc.uc_mcontext.si = (uint64_t)a[1];
	fr.uc.uc_mcontext.dx = (uint64_t)a[2];
	fr.uc.uc_mcontext.r10 = (uint64_t)a[3];
	fr.uc.uc_mcontext.r8 = (uint64_t)a[4];
	fr.uc.uc_mcontext.r9 = (uint64_t)a[5];
	fr.uc.uc_mcontext.fpstate = 0;
	fr.uc.uc_sigmask = ~0ULL;
	ret = rsys_write(r, at, &fr, sizeof(fr));
	if (ret)
		return ret;
	*sp = at;
	return 0;
}
