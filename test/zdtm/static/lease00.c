/* lease00: file leases survive checkpoint/restore: a read lease on one file, a write lease on
 * another, SIGRTMIN+2 chosen for lease breaks on the second (F_SETSIG).
 *
 * After the restore: F_GETLEASE reads F_RDLCK and F_WRLCK; the write lease acts: a child that
 * opens its file makes the kernel break it, this process gets SIGRTMIN+2 with si_fd = the
 * lease's fd, F_GETLEASE then reads the type being broken to (F_UNLCK for an open for
 * writing), and once the lease is given up the child's open() goes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	siginfo_t si;
	sigset_t s;
	int r, w, st;
	pid_t cp;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &s, NULL);
	if (close(open("leased-r", O_RDWR | O_CREAT, 0644)) ||
	    close(open("leased-w", O_RDWR | O_CREAT, 0644)))
		fail_errno("setup: files");
	r = open("leased-r", O_RDONLY);
	w = open("leased-w", O_RDONLY);
	if (r < 0 || w < 0 || fcntl(r, F_SETLEASE, F_RDLCK) || fcntl(w, F_SETSIG, SIGRTMIN + 2) ||
	    fcntl(w, F_SETLEASE, F_WRLCK)) {
		if (errno == EINVAL) {
			skip("this file system takes no leases");
			return 0;
		}
		fail_errno("setup: leases");
	}

	if (test_daemon())
		return 1;
	test_waitsig();

	if (fcntl(r, F_GETLEASE) != F_RDLCK || fcntl(w, F_GETLEASE) != F_WRLCK)
		fail("leases read %d and %d, not F_RDLCK and F_WRLCK", fcntl(r, F_GETLEASE),
		     fcntl(w, F_GETLEASE));
	cp = fork();
	if (cp == 0)
		_exit(open("leased-w", O_WRONLY) < 0 ? 1 : 0);
	if (sigwaitinfo(&s, &si) != SIGRTMIN + 2 || si.si_fd != w)
		fail("no lease-break signal for the write lease (si_fd %d)", si.si_fd);
	else if (fcntl(w, F_GETLEASE) != F_UNLCK)
		fail("the lease being broken reads %d, not F_UNLCK", fcntl(w, F_GETLEASE));
	if (fcntl(w, F_SETLEASE, F_UNLCK) || waitpid(cp, &st, 0) != cp || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		fail("the child's open did not go through once the lease was given up (%#x)", st);
	pass();
	return 0;
}
