/* kerndat-child: short-lived children the kernel probes work on. See kerndat-int.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criu-lite/kerndat/kerndat-int.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int kd_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kd_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kd_child_start(struct kd_child *c, kd_child_fn fn, void *arg)
{
	pid_t parent = getpid();
	int sk[2];
	pid_t pid;

	c->pid = 0;
	c->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(sk[0]);
		close(sk[1]);
		return -err;
	}
	if (pid == 0) {
		close(sk[0]);
		/* never outlive the prober, even when it is killed mid-probe */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		_exit(fn(sk[1], arg) & 0xff);
	}
	close(sk[1]);
	c->pid = pid;
	c->fd = sk[0];
	return 0;
}

int kd_child_recv(struct kd_child *c, void *buf, size_t len)
{
	long deadline = now_ms() + KD_CHILD_TIMEOUT_MS;
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(c->fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kd_child_send(struct kd_child *c, const void *buf, size_t len)
{
	return kd_write_full(c->fd, buf, len);
}

int kd_child_wait(struct kd_child *c, int *status, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(c->pid, status, __WALL | WNOHANG);

		if (r == c->pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

void kd_child_stop(struct kd_child *c)
{
	int status;

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		for (;;) {
			pid_t r = waitpid(c->pid, &status, __WALL);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status))
				break;
			/* a ptrace stop reported before the kill landed */
			kill(c->pid, SIGKILL);
		}
		c->pid = 0;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
