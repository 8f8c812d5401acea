/* proc-attrs: /proc/PID/{oom_score_adj,loginuid,coredump_filter,timerslack_ns,autogroup,
 * attr/current}: files of one value. See proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

int proc_read_value(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		buf[--n] = 0;
	return 0;
}

int proc_parse_int_buf(const char *name, const char *buf, size_t len, int base, int64_t lo,
		       int64_t hi, int64_t *v)
{
	const char *p = buf, *end = buf + len;
	uint64_t u = 0;
	bool ok;

	while (end > p && (end[-1] == '\n' || end[-1] == '\0'))
		end--;
	if (base == 10) {
		ok = sp_s64_range(&p, end, lo, hi, v);
	} else {
		ok = sp_u64_range(&p, end, base, (uint64_t)hi, &u);
		*v = (int64_t)u;
	}
	if (!ok || p != end) {
		pr_err("%s: \"%.*s\" is not a number in %lld..%lld\n", name, (int)(end - buf), buf,
		       (long long)lo, (long long)hi);
		return -EINVAL;
	}
	return 0;
}

int proc_read_int(const char *path, int base, int64_t lo, int64_t hi, int64_t *v)
{
	char buf[64];
	int ret = proc_read_value(path, buf, sizeof(buf));

	if (ret) {
		errno = -ret;
		pr_perror("can't read %s", path);
		return ret;
	}
	return proc_parse_int_buf(path, buf, strlen(buf), base, lo, hi, v);
}

int proc_parse_autogroup_buf(const char *name, const char *buf, size_t len, int *nice, bool *root)
{
	const char *p = buf, *end = buf + len;
	uint64_t id;
	int64_t n;

	while (end > p && end[-1] == '\n')
		end--;
	*root = p == end;
	*nice = 0;
	if (*root)
		return 0;
	if (!sp_lit(&p, end, "/autogroup-") || !sp_u64(&p, end, 10, &id) ||
	    !sp_lit(&p, end, " nice ") || !sp_s64_range(&p, end, -20, 19, &n) || p != end) {
		pr_err("%s: unexpected content \"%.*s\"\n", name, (int)(end - buf), buf);
		return -EINVAL;
	}
	*nice = (int)n;
	return 0;
}
