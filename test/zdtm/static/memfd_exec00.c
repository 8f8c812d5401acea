/* memfd_exec00: a process whose program is a memfd it executed (execveat(AT_EMPTY_PATH) on a
 * memfd holding a copy of this test) survives checkpoint/restore running from that memfd: its
 * /proc/self/exe still reads "/memfd:memfd_exec00 (deleted)", the executable is the object its
 * text is mapped from (same device and inode as the mappings of /proc/self/maps), with the
 * same size, mode and contents (crc32c of every byte), and it still refuses to be opened for
 * writing as it did before (ETXTBSY: the kernel denies writes to a running program). The memfd
 * has no fd left in the process (MFD_CLOEXEC): only the exe link and the mappings reach it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAME   "memfd_exec00"
#define MARKER "ZDTM_MEMFD_EXEC00"

extern char **environ;

/* Run this test again from a memfd copy of itself (never returns on success). */
static int exec_from_memfd(char **argv)
{
	int fd = memfd_create(NAME, MFD_CLOEXEC), src = open("/proc/self/exe", O_RDONLY);
	char buf[65536];
	ssize_t n;

	if (fd < 0 || src < 0)
		return -1;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return -1;
	if (n < 0 || setenv(MARKER, "1", 1))
		return -1;
	close(src);
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return -1;
}

struct exe_state {
	char link[PATH_MAX];
	struct stat st;
	uint32_t crc;
	int write_errno; /* of an open for writing: 0 if it was allowed */
	int mapped;	 /* mappings of /proc/self/maps on the exe's device and inode */
};

static int exe_state(struct exe_state *s)
{
	size_t len = 0;
	char *data, *maps, *p;
	ssize_t n = readlink("/proc/self/exe", s->link, sizeof(s->link) - 1);
	int fd;

	if (n < 0 || stat("/proc/self/exe", &s->st))
		return -1;
	s->link[n] = 0;
	data = test_read_file("/proc/self/exe", &len);
	if (!data || len != (size_t)s->st.st_size)
		return -1;
	s->crc = test_crc32c(data, len);
	free(data);
	fd = open("/proc/self/exe", O_WRONLY);
	s->write_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	maps = test_read_file("/proc/self/maps", &len);
	if (!maps)
		return -1;
	s->mapped = 0;
	for (p = maps; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned int maj, mnr;
		unsigned long ino;

		if (sscanf(p, "%*x-%*x %*s %*x %x:%x %lu", &maj, &mnr, &ino) == 3 &&
		    ino == s->st.st_ino && makedev(maj, mnr) == s->st.st_dev)
			s->mapped++;
	}
	free(maps);
	return 0;
}

int main(int argc, char **argv)
{
	struct exe_state a, b;

	if (!getenv(MARKER) && exec_from_memfd(argv)) {
		perror("setup: executing a memfd copy of the test");
		return 1;
	}
	if (test_init(argc, argv))
		return 1;
	if (exe_state(&a)) {
		fail_errno("setup: the state of /proc/self/exe");
		return 1;
	}
	if (strcmp(a.link, "/memfd:" NAME " (deleted)") || !a.mapped) {
		fail("setup: /proc/self/exe is '%s' with %d mappings, not the memfd '" NAME "'",
		     a.link, a.mapped);
		return 1;
	}
	test_msg("exe %s: %jd bytes, crc %08x, %d mappings, open for writing: %s\n", a.link,
		 (intmax_t)a.st.st_size, a.crc, a.mapped, strerror(a.write_errno));
	if (test_daemon())
		return 1;
	test_waitsig();

	if (exe_state(&b)) {
		fail_errno("the state of /proc/self/exe after restore");
		return 1;
	}
	if (strcmp(a.link, b.link) || a.st.st_size != b.st.st_size ||
	    a.st.st_mode != b.st.st_mode || a.crc != b.crc || a.mapped != b.mapped ||
	    a.write_errno != b.write_errno) {
		fail("exe '%s' (was '%s'), %jd bytes (%jd), mode 0%o (0%o), crc %08x (%08x), %d "
		     "mappings of it (%d), open for writing: %s (%s)",
		     b.link, a.link, (intmax_t)b.st.st_size, (intmax_t)a.st.st_size,
		     (unsigned)b.st.st_mode, (unsigned)a.st.st_mode, b.crc, a.crc, b.mapped,
		     a.mapped, strerror(b.write_errno), strerror(a.write_errno));
		return 1;
	}
	pass();
	return 0;
}
