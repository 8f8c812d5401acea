/* pty00: pseudo-terminals the tree made survive checkpoint/restore, with their index, state and
 * the sessions that have them as controlling terminal:
 *
 *   P1  master here (packet mode), slave termios changed (no ECHO/ICANON, VMIN 2, 38400 baud,
 *       VINTR ^G), 33x111 window, /dev/pts/N owned by 1234:5678, mode 0640; child S: setsid(),
 * opens the slave (its controlling terminal), makes its child G's group the foreground one P2
 * master only, locked (never unlockpt()ed), 10x20 window P3  master only, its slave opened and
 * closed again (the master polls POLLHUP)
 *
 * S also holds /dev/tty open from before the dump. After the restore: the same /dev/pts
 * indices; P1's termios (TCGETS2, every field), window
 * and packet mode, P2's lock and window, P3's hang-up; S's /proc tty_nr is P1's slave, its
 * foreground group is G's, /dev/tty opens in S, and its old /dev/tty fd is on it (its answer
 * goes out through that fd); data goes both ways through P1 (a packet-mode read gets
 * TIOCPKT_DATA first).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asm/termbits.h>

#include "zdtmtst.h"

extern int posix_openpt(int flags);
extern int grantpt(int fd);
extern int unlockpt(int fd);

static int pty_index(int m)
{
	unsigned int n;

	return ioctl(m, TIOCGPTN, &n) ? -1 : (int)n;
}

static int pts_open(int idx, int flags)
{
	char p[32];

	snprintf(p, sizeof(p), "/dev/pts/%d", idx);
	return open(p, flags);
}

/* S's half: in its own session with P1's slave as terminal, G in the foreground; answers
 * "what is your terminal" after the restore over the pipes (then takes the foreground back
 * itself, to read and write it). */
static void s_main(int idx, int go, int res)
{
	struct stat st, dt;
	pid_t g;
	char c, why[200] = "";
	int s, t, nr = 0, tty;
	FILE *f;

	if (setsid() < 0 || (s = pts_open(idx, O_RDWR)) < 0 || (tty = open("/dev/tty", O_RDWR)) < 0)
		_exit(2);
	g = fork();
	if (g == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	if (g < 0 || setpgid(g, g) || ioctl(s, TIOCSPGRP, &g) || write(res, "r", 1) != 1)
		_exit(3);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	f = fopen("/proc/self/stat", "r");
	if (!f || fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %d", &nr) != 1 || fstat(s, &st))
		snprintf(why, sizeof(why), "S: can't read its stat");
	else if ((dev_t)nr != st.st_rdev)
		snprintf(why, sizeof(why), "S: tty_nr %#x, its pty is %#lx", nr,
			 (unsigned long)st.st_rdev);
	else if (tcgetpgrp(s) != g)
		snprintf(why, sizeof(why), "S: foreground group %d, not G's %d", tcgetpgrp(s), g);
	else if ((t = open("/dev/tty", O_RDWR)) < 0)
		snprintf(why, sizeof(why), "S: /dev/tty: %s", strerror(errno));
	else if (fstat(tty, &dt) || dt.st_rdev != makedev(5, 0) || tcgetpgrp(tty) != g)
		snprintf(why, sizeof(why),
			 "S: its /dev/tty fd from before the dump is not on its "
			 "terminal any more");
	else if (signal(SIGTTOU, SIG_IGN) == SIG_ERR || tcsetpgrp(s, getpgrp()) ||
		 read(s, &c, 1) != 1 || c != 'x' || write(tty, "pong", 4) != 4)
		snprintf(why, sizeof(why), "S: no data through its terminal");
	if (f)
		fclose(f);
	kill(g, SIGKILL);
	waitpid(g, NULL, 0);
	if (write(res, why, sizeof(why)) != sizeof(why))
		_exit(4);
	_exit(0);
}

int main(int argc, char **argv)
{
	int m1, m2, m3, s3, i1, i2, i3, one = 1, go[2], res[2], v, st;
	struct termios2 tio, tio_after;
	struct winsize w1 = { .ws_row = 33, .ws_col = 111 }, w2 = { .ws_row = 10, .ws_col = 20 }, w;
	struct pollfd p = { .events = POLLIN };
	struct stat sst;
	char buf[256], c;
	pid_t s;

	if (test_init(argc, argv))
		return 1;
	m1 = posix_openpt(O_RDWR | O_NOCTTY);
	m2 = posix_openpt(O_RDWR | O_NOCTTY);
	m3 = posix_openpt(O_RDWR | O_NOCTTY);
	if (m1 < 0 || m2 < 0 || m3 < 0 || grantpt(m1) || unlockpt(m1) || grantpt(m3) ||
	    unlockpt(m3) || pipe(go) || pipe(res))
		fail_errno("setup: ptys");
	i1 = pty_index(m1);
	i2 = pty_index(m2);
	i3 = pty_index(m3);
	if (ioctl(m1, TCGETS2, &tio))
		fail_errno("setup: TCGETS2");
	tio.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
	tio.c_cc[VMIN] = 2;
	tio.c_cc[VINTR] = 7;
	tio.c_cflag = (tio.c_cflag & ~(tcflag_t)CBAUD) | B38400;
	if (ioctl(m1, TCSETS2, &tio) || ioctl(m1, TCGETS2, &tio) || ioctl(m1, TIOCSWINSZ, &w1) ||
	    ioctl(m2, TIOCSWINSZ, &w2) || ioctl(m1, TIOCPKT, &one))
		fail_errno("setup: pty state");
	snprintf(buf, sizeof(buf), "/dev/pts/%d", i1);
	if (chown(buf, 1234, 5678) || chmod(buf, 0640))
		fail_errno("setup: P1's slave owner");
	s3 = pts_open(i3, O_RDWR | O_NOCTTY);
	if (s3 < 0 || close(s3))
		fail_errno("setup: P3's slave");
	s = fork();
	if (s == 0)
		s_main(i1, go[0], res[1]);
	if (s < 0 || read(res[0], &c, 1) != 1)
		fail("setup: S did not start");
	p.fd = m3;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP))
		fail("setup: P3's master does not poll POLLHUP");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (pty_index(m1) != i1 || pty_index(m2) != i2 || pty_index(m3) != i3)
		fail("pty indices %d %d %d, before the dump %d %d %d", pty_index(m1), pty_index(m2),
		     pty_index(m3), i1, i2, i3);
	memset(&tio_after, 0, sizeof(tio_after));
	if (ioctl(m1, TCGETS2, &tio_after) || memcmp(&tio, &tio_after, sizeof(tio)))
		fail("P1's termios changed (lflag %#x -> %#x, cflag %#x -> %#x)", tio.c_lflag,
		     tio_after.c_lflag, tio.c_cflag, tio_after.c_cflag);
	if (ioctl(m1, TIOCGWINSZ, &w) || w.ws_row != 33 || w.ws_col != 111)
		fail("P1's window is %dx%d", w.ws_row, w.ws_col);
	if (ioctl(m2, TIOCGWINSZ, &w) || w.ws_row != 10 || w.ws_col != 20)
		fail("P2's window is %dx%d", w.ws_row, w.ws_col);
	if (ioctl(m1, TIOCGPKT, &v) || v != 1)
		fail("P1 is not in packet mode");
	if (ioctl(m2, TIOCGPTLCK, &v) || v != 1)
		fail("P2 is not locked");
	if (ioctl(m1, TIOCGPTLCK, &v) || v != 0)
		fail("P1 is locked");
	p.fd = m3;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP))
		fail("P3's master does not poll POLLHUP");
	snprintf(buf, sizeof(buf), "/dev/pts/%d", i1);
	if (stat(buf, &sst) || sst.st_uid != 1234 || sst.st_gid != 5678 ||
	    (sst.st_mode & 07777) != 0640)
		fail("%s is %u:%u %04o, not 1234:5678 0640", buf, sst.st_uid, sst.st_gid,
		     sst.st_mode & 07777);

	/* S reads 'x' (VMIN 2: two bytes make the read return), answers "pong" */
	if (write(m1, "xx", 2) != 2 || write(go[1], "g", 1) != 1)
		fail_errno("writing to P1");
	if (read(res[0], buf, 200) != 200)
		fail("S did not report");
	else if (buf[0])
		fail("%s", buf);
	if (read(m1, buf, sizeof(buf)) != 5 || buf[0] != TIOCPKT_DATA || memcmp(buf + 1, "pong", 4))
		fail("P1's master did not read S's answer as a data packet");
	if (waitpid(s, &st, 0) != s || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("S ended with status %#x", st);
	pass();
	return 0;
}
