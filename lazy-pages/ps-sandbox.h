/* ps-sandbox: the page server's seccomp sandbox (libseccomp). Once its listening socket, its key,
 * its log and its image directory are open, the process that serves drops to an allow-list of
 * the system calls that serving needs: a client that finds a hole in the frame parser or in
 * GnuTLS gets a process that can read, send and open files read-only, and nothing else.
 *
 * Contract:
 * - ps_sandbox_check(): whether this kernel can enforce the filter: seccomp filters
 *   (CONFIG_SECCOMP_FILTER) with SECCOMP_FILTER_FLAG_TSYNC and SECCOMP_RET_KILL_PROCESS, i.e.
 *   Linux 4.14 or later (libseccomp API level 3). 0, or -ENOSYS with err saying what is
 *   missing. The page server calls it first and refuses to start without: there is no option
 *   to serve unsandboxed (an option that takes protection away is one an admin sets once to get
 *   past an error and forgets), and a kernel that lacks seccomp filters is older than 4.14 or
 *   built without them on purpose.
 * - ps_sandbox_enter(lsk, dirfd): from its return on, for good, every thread of the calling
 *   process (those it has: TSYNC, and those it starts) may make only the system calls of the
 *   list below, each with the arguments it allows; any other kills the whole process at once
 *   with SIGSYS (SECCOMP_RET_KILL_PROCESS; other ABIs' system calls, x32 and int 0x80, too). It
 *   sets no_new_privs. lsk is the listening socket: the only fd accept4() may take connections
 *   from. dirfd >= 0 is the image directory of a server that may receive a dump (it started on
 *   a directory that holds none: page-server.h): the second list below is allowed too, on that
 *   fd only; -1: not (a server that serves a dump it found writes nothing). 0, or -errno with
 *   err filled (the process is then not sandboxed).
 * - ps_sandbox_status(): how a sandboxed child ended, from waitpid()'s status: 0 (exit 0), its
 *   exit status (> 0: it failed and said why itself), or -errno with err filled when a signal
 *   killed it: -EPERM for SIGSYS ("killed by its sandbox: a system call off the allow-list",
 *   which the kernel's log names: audit type=1326 ... syscall=N), -EINTR for any other.
 * Nothing here prints; no state is kept between calls.
 *
 * Why kill and not EPERM: an exploit that gets EPERM goes on probing and tries another way;
 * killed, it has one try. Code of ours or of a library that makes a call the list misses would,
 * with EPERM, fail somewhere deep in glibc or GnuTLS with a misleading error (or worse, go on
 * with a half-done operation); killed, it fails loudly, and the process that forked the server
 * (cmd-page-server.c), outside the sandbox, says it was the sandbox (ps_sandbox_status()). The
 * one exception is clone3(), which fails with ENOSYS: its flags are in a struct, which a
 * seccomp filter can't read, and glibc (2.34 on) then falls back to clone(), whose flags it
 * can: clone() is allowed for threads only.
 *
 * Why a child: what the page server does when it stops, the --stats-file (create a temporary
 * file, rename it), needs openat() for writing and rename(), which the list must not have
 * (renameat() can't be limited to one name: a filter sees pointers, not paths). So the server
 * runs in a child that enters the sandbox and leaves its figures in memory shared with its
 * parent, which waits outside the sandbox and writes the summary and the stats file. (Opening
 * the stats file before the sandbox and writing it in place would lose its atomicity; allowing
 * renameat would let a hijacked server rename any file it can reach.)
 *
 * The allow-list (x86_64 names; other architectures' equivalents by libseccomp):
 *   read, pread64, write, close, fstat, newfstatat    the log (-o, stderr), the images' files
 *   openat: no O_WRONLY, O_RDWR, O_CREAT, O_TRUNC     each connection opens its readers of the
 *                                                     pagemaps and pages files (images/pages.c);
 *                                                     malloc reads /sys/devices/system/cpu/online
 *                                                     once 8 threads have arenas (Debian's glibc)
 *   fcntl: F_GETFL, F_SETFL                           a connection's socket made non-blocking
 *   accept4: on lsk only                              connections (no socket, bind, connect)
 *   poll, ppoll                                       every wait, with its deadline
 *   recvfrom, recvmsg, sendto, sendmsg                the connections (TLS records, frames)
 *   getpeername                                       a connection names its peer
 *   setsockopt: IPPROTO_TCP, TCP_NODELAY only         xfer-conn sets it on each connection
 *   shutdown                                          the connections cut when it stops
 *   mmap, mprotect: never PROT_EXEC                   malloc, thread stacks, the pages files'
 *                                                     read-only maps; no new executable memory
 *   munmap, mremap, brk                               malloc
 *   madvise: MADV_DONTNEED, MADV_FREE, MADV_DONTDUMP, glibc's thread stacks and heap trimming,
 *            MADV_NOHUGEPAGE, MADV_HUGEPAGE           the sanitizers' allocator (make SAN=1)
 *   clone: CLONE_THREAD|CLONE_VM|CLONE_SIGHAND set,   a thread per connection; no process, no
 *          no CLONE_NEW* flag                         new namespace
 *   clone3: fails with ENOSYS                         glibc then uses clone (above)
 *   futex, set_robust_list, rseq, sched_yield,        threads, mutexes and condition variables;
 *   sched_getaffinity                                 the CPU count of upstream glibc's malloc
 *                                                     (the line above) and of the sanitizers
 *   rt_sigaction, rt_sigprocmask, rt_sigreturn,       SIGTERM's handler, glibc's thread start,
 *   restart_syscall, sigaltstack                      a poll restarted after SIGSTOP/SIGCONT;
 *                                                     the sanitizers' signal stacks
 *   getpid, gettid; tgkill: on its own pid only       abort() (raise) of itself; no kill()
 *   getrandom                                         GnuTLS: keys, nonces, random padding
 *   clock_gettime, gettimeofday, clock_nanosleep,     timestamps and timeouts, when the vDSO
 *   nanosleep                                         can't serve them (some clocksources)
 *   exit, exit_group                                  a thread ends, the server ends
 * Not on it, among others: execve, socket, connect, bind, listen, ptrace, process_vm_readv and
 * _writev, kill, mount, unshare, setns, prctl, ioctl, rename*, unlink*, mkdir*, open, openat2,
 * seccomp, bpf, io_uring_*, userfaultfd, perf_event_open, pkey_mprotect, memfd_create.
 *
 * The second list, a server that may receive a dump (lazy-pages/push-recv.h: a file under a temp
 * name, written, checked, fsync'd, renamed into place; all of it removed when the push fails):
 *   openat: on dirfd, flags exactly PUSH_OPEN_FLAGS   a new temp file: O_RDWR | O_CREAT |
 *                                                     O_EXCL | O_NOFOLLOW | O_CLOEXEC, so never
 *                                                     a file that is there (no O_TRUNC, no
 *                                                     O_APPEND), never through a symlink
 *   pwrite64                                          its data, at the offsets they came with
 *   fsync                                             each file, and the directory
 *   renameat2: dirfd to dirfd, RENAME_NOREPLACE only  into place, never over a file
 *   unlinkat: on dirfd, flags 0                       a failed push's files (no AT_REMOVEDIR)
 *   flock: on dirfd, LOCK_SH | LOCK_NB only           the directory's lock, exclusive while it
 *                                                     may receive, made shared once it holds a
 *                                                     dump (restores may then read it)
 *   sysinfo                                           glibc's qsort() of more than 1 KiB asks
 *                                                     for the memory size: the manifest of a
 *                                                     push, the spaces of the dump it brought
 * (renameat2 and not renameat: only its flags can say "never over a file"; glibc's renameat2()
 * makes that call.)
 *
 * What it does not stop: a filter sees no paths, so by itself it would let a hijacked server open
 * and read (and stat) any file its user may read, and, for a server that may receive, create,
 * move (never over another) or remove files wherever its user may through a "../" name relative
 * to dirfd. Landlock closes that where the kernel has it: the page server confines itself to its
 * image directory first (ps-landlock.h); those calls are still on the list only for a server
 * started on an empty directory, and only relative to its fd. */
#ifndef CRIU_LITE_PS_SANDBOX_H
#define CRIU_LITE_PS_SANDBOX_H

#include <sys/types.h>

#include "images/img.h"

int ps_sandbox_check(struct img_err *err);
int ps_sandbox_enter(int lsk, int dirfd, struct img_err *err);
int ps_sandbox_status(pid_t pid, int wstatus, struct img_err *err);

#endif
