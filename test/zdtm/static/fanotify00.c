/* fanotify00: a fanotify group survives checkpoint/restore with its marks: an inode mark on
 * "watched" (FAN_MODIFY | FAN_CLOSE_WRITE), a mark on directory "d" for its children
 * (FAN_OPEN | FAN_EVENT_ON_CHILD), an ignored mask on "d/quiet" (FAN_OPEN,
 * FAN_MARK_IGNORED_SURV_MODIFY), and a mount mark on the work directory's mount with an ignored
 * mask only (FAN_ACCESS, surviving modifications: other processes open and write files there all
 * the time, and a mask would queue their events), in a nonblocking group. After the restore the
 * group's fdinfo shows the same marks (kind, flags, masks, in any order; inode and mount ids are
 * the restored ones) and they act: opening
 * "d/other" reports FAN_OPEN, opening "d/quiet" reports nothing, writing "watched" reports
 * FAN_MODIFY, each event's fd on the right file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The marks of fdinfo as "kind mflags mask ignored_mask" lines, sorted. */
static int marks(int fd, char *out, size_t len)
{
	char path[64], *s, *l, *v[16], one[16][128];
	size_t n, o = 0, k = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	s = test_read_file(path, &n);
	if (!s)
		return -1;
	out[0] = 0;
	for (l = strtok(s, "\n"); l; l = strtok(NULL, "\n")) {
		const char *kind = !strncmp(l, "fanotify ino:", 13)	 ? "inode"
				   : !strncmp(l, "fanotify mnt_id:", 16) ? "mount"
				   : !strncmp(l, "fanotify sdev:", 14)	 ? "fs"
									 : NULL;
		const char *m = strstr(l, "mflags:"), *e;

		if (!kind || !m)
			continue;
		e = strstr(m, " fhandle");
		if (k < 16) {
			snprintf(one[k], sizeof(one[k]), "%s %.*s; ", kind,
				 e ? (int)(e - m) : (int)strlen(m), m);
			v[k] = one[k];
			k++;
		}
	}
	free(s);
	qsort(v, k, sizeof(v[0]), cmp);
	for (size_t i = 0; i < k && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s", v[i]);
	return 0;
}

/* The next event of fd: its mask, and the inode its fd is on (0: none queued). */
static uint64_t next_event(int fd, ino_t *ino)
{
	char buf[4096];
	struct fanotify_event_metadata *m = (void *)buf;
	struct stat st;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < (ssize_t)sizeof(*m))
		return 0;
	*ino = m->fd >= 0 && !fstat(m->fd, &st) ? st.st_ino : 0;
	if (m->fd >= 0)
		close(m->fd);
	return m->mask;
}

int main(int argc, char **argv)
{
	char before[1024], after[1024];
	struct stat w, o;
	ino_t ino = 0;
	uint64_t m = 0;
	int fd, f;

	if (test_init(argc, argv))
		return 1;
	if (mkdir("d", 0755) || close(open("watched", O_RDWR | O_CREAT, 0644)) ||
	    close(open("d/quiet", O_RDWR | O_CREAT, 0644)) ||
	    close(open("d/other", O_RDWR | O_CREAT, 0644)) || stat("watched", &w) ||
	    stat("d/other", &o))
		fail_errno("setup: files");
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
	if (fd < 0 ||
	    fanotify_mark(fd, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, "watched") ||
	    fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, "d") ||
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
			  FAN_OPEN, AT_FDCWD, "d/quiet") ||
	    fanotify_mark(fd,
			  FAN_MARK_ADD | FAN_MARK_MOUNT | FAN_MARK_IGNORED_MASK |
			      FAN_MARK_IGNORED_SURV_MODIFY,
			  FAN_ACCESS, AT_FDCWD, "."))
		fail_errno("setup: fanotify");
	while (next_event(fd, &ino))
		; /* what the setup's own opens made */
	if (marks(fd, before, sizeof(before)))
		fail_errno("setup: fdinfo");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (marks(fd, after, sizeof(after)) || strcmp(before, after))
		fail("marks now \"%s\", before the dump \"%s\"", after, before);
	f = open("d/quiet", O_RDONLY);
	if (f < 0 || close(f) || (m = next_event(fd, &ino)))
		fail("opening the ignored file reported %#llx", (unsigned long long)m);
	f = open("d/other", O_RDONLY);
	if (f < 0 || close(f) || (m = next_event(fd, &ino)) != FAN_OPEN || ino != o.st_ino)
		fail("opening \"d/other\" reported %#llx on inode %lu", (unsigned long long)m,
		     (unsigned long)ino);
	while (next_event(fd, &ino))
		;
	f = open("watched", O_WRONLY);
	if (f < 0 || write(f, "x", 1) != 1 || (m = next_event(fd, &ino)) != FAN_MODIFY ||
	    ino != w.st_ino)
		fail("writing \"watched\" reported %#llx on inode %lu", (unsigned long long)m,
		     (unsigned long)ino);
	pass();
	return 0;
}
