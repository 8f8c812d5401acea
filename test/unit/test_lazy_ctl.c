/* test_lazy_ctl: the control frames of a lazy restore (lazy-pages/lazy-ctl.h) over a socket
 * pair.
 * - roundtrip: a task message with ranges and an fd arrives whole, with a working copy of the
 *   fd; one without an fd arrives with -1.
 * - bad: a length over LAZY_CTL_MAX is refused (-EMSGSIZE) before anything is read of it; a
 *   peer that closes between frames gives -ENODATA, in the middle of one -ECONNRESET; bytes
 *   that are no lazy_msg give -EBADMSG. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/lazy-ctl.h"

static void test_roundtrip(void **state)
{
	LazyRange r[2] = { LAZY_RANGE__INIT, LAZY_RANGE__INIT }, *rp[2] = { &r[0], &r[1] };
	LazyMsg m = LAZY_MSG__INIT, *got;
	int sk[2], p[2], fd;
	char c = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sk), 0);
	assert_int_equal(pipe(p), 0);
	r[0].start = 0x1000;
	r[0].end = 0x5000;
	r[1].start = 0x7f0000000000;
	r[1].end = 0x7f0000200000;
	m.kind = LAZY_KIND__LAZY_TASK;
	m.has_pid = m.has_image_id = true;
	m.pid = 4242;
	m.image_id = 17;
	m.n_ranges = 2;
	m.ranges = rp;
	assert_int_equal(lazy_ctl_send(sk[0], &m, p[1]), 0);
	m = (LazyMsg)LAZY_MSG__INIT;
	m.kind = LAZY_KIND__LAZY_END;
	assert_int_equal(lazy_ctl_send(sk[0], &m, -1), 0);

	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), 0);
	assert_int_equal(got->kind, LAZY_KIND__LAZY_TASK);
	assert_int_equal(got->pid, 4242);
	assert_int_equal(got->image_id, 17);
	assert_int_equal(got->n_ranges, 2);
	assert_int_equal(got->ranges[1]->start, 0x7f0000000000);
	assert_int_equal(got->ranges[1]->end, 0x7f0000200000);
	assert_true(fd >= 0 && fd != p[1]);
	assert_int_equal(write(fd, "x", 1), 1); /* the same pipe */
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(fd);
	lazy_msg__free_unpacked(got, NULL);
	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), 0);
	assert_int_equal(got->kind, LAZY_KIND__LAZY_END);
	assert_int_equal(fd, -1);
	lazy_msg__free_unpacked(got, NULL);
	close(sk[0]);
	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), -ENODATA);
	close(sk[1]);
	close(p[0]);
	close(p[1]);
}

static void test_bad(void **state)
{
	uint32_t big = LAZY_CTL_MAX + 1, two = 2;
	LazyMsg *got;
	int sk[2], fd;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sk), 0);
	assert_int_equal(write(sk[0], &big, 4), 4);
	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), -EMSGSIZE);
	assert_null(got);
	assert_int_equal(fd, -1);
	close(sk[0]);
	close(sk[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sk), 0);
	assert_int_equal(write(sk[0], &two, 4), 4);
	assert_int_equal(write(sk[0], "\xff\xff", 2), 2); /* not a lazy_msg */
	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), -EBADMSG);
	assert_int_equal(write(sk[0], &two, 4), 4);
	assert_int_equal(write(sk[0], "\x08", 1), 1);
	close(sk[0]); /* gone in the middle of a frame */
	assert_int_equal(lazy_ctl_recv(sk[1], &got, &fd), -ECONNRESET);
	close(sk[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
