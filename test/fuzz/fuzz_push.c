/* fuzz_push: libFuzzer target for the receiving side of a push (push-recv.h), what a page server
 * does with the frames of a `dump --page-server` after its HELLO.
 *
 * The input is the byte stream of a connection (a leading HELLO frame, as in the seeds of
 * corpus-pagexfer, is skipped); push_receive() takes it into an empty image directory of its own
 * (on /dev/shm). Its contract is checked after every input, apart from push-recv.c's code:
 * - refused (< 0): err names why, and the directory is empty again: nothing of the push is left,
 *   no temp file;
 * - accepted (0): the directory holds exactly the files it names, each a regular file, and
 *   inventory.img among them;
 * - either way nothing appears beside the directory (no name escapes it).
 * The same bytes are tried a second time with each frame's payload_crc32c made right, so that
 * mutated file data gets past the frame checksum and reaches the file checks. Inputs that would
 * make files larger than FUZZ_MAX_FILE bytes are skipped (the receiver reads a file back when its
 * data came out of order: a terabyte of holes is slow, not wrong). Any crash, leak or broken
 * contract is a finding (abort()). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lazy-pages/push-recv.h"
#include "lazy-pages/xfer-msg.h"
#include "test/fuzz/fuzz_frames.h"

#define PEER	      "fuzz peer 192.0.2.1:7002"
#define FUZZ_MAX_FILE (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t payload[XFER_MAX_PAYLOAD];
static char top[64], dir[96];

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* The names in path (not . and ..), at most max, into v: their number. */
static size_t names(const char *path, char v[][XFER_MAX_NAME + 8], size_t max)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	check(d != NULL);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			if (n < max)
				snprintf(v[n], XFER_MAX_NAME + 8, "%s", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* Where the frames after a leading HELLO start (0 without one); whether every file of the stream
 * stays below FUZZ_MAX_FILE bytes. */
static bool scan(const uint8_t *data, size_t size, size_t *start)
{
	struct stream s = { .buf = data, .len = size };
	bool first = true, small = true;

	*start = 0;
	for (;;) {
		struct img_err err = { 0 };
		struct xfer_frame f;
		const XferMsg *m;

		if (xfer_recv(st_read, &s, payload, &f, PEER, &err))
			return small;
		m = f.msg;
		if (first && m->kind == XFER_KIND__XFER_HELLO)
			*start = s.pos;
		first = false;
		if ((m->kind == XFER_KIND__XFER_FILE_DATA &&
		     (m->offset > FUZZ_MAX_FILE || f.payload_len > FUZZ_MAX_FILE - m->offset)) ||
		    (m->kind == XFER_KIND__XFER_FILE_END && m->size > FUZZ_MAX_FILE))
			small = false;
		xfer_frame_free(&f);
	}
}

static void run(const uint8_t *data, size_t size)
{
	static char seen[64][XFER_MAX_NAME + 8];
	struct img_err err = { 0 };
	struct push_files out;
	struct img_dir *d;
	struct stream s;
	size_t start, n;
	int ret;

	if (!scan(data, size, &start))
		return;
	s = (struct stream){ .buf = data, .len = size, .pos = start };
	check(img_dir_open(dir, false, &d, &err) == 0);
	ret = push_receive(st_read, &s, PEER, d, 42, payload, &out, &err);
	n = names(dir, seen, 64);
	if (ret < 0) {
		check(err.msg[0] && n == 0);
	} else {
		bool inv = false;

		check(ret == 0 && n == out.n && out.n <= 64);
		for (size_t i = 0; i < out.n; i++) {
			char path[256];
			struct stat st;

			snprintf(path, sizeof(path), "%s/%s", dir, out.names[i]);
			check(!lstat(path, &st) && S_ISREG(st.st_mode));
			inv |= !strcmp(out.names[i], "inventory.img");
		}
		check(inv);
		push_files_discard(d, &out);
		push_files_free(&out);
		check(names(dir, seen, 64) == 0);
	}
	check(names(top, seen, 64) == 1); /* the directory alone */
	img_dir_close(d);
}

/* the directories are empty between inputs: gone with the fuzzer */
static void cleanup(void)
{
	rmdir(dir);
	rmdir(top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!top[0]) {
		snprintf(top, sizeof(top), "/dev/shm/fuzz_push.XXXXXX");
		check(mkdtemp(top) != NULL);
		snprintf(dir, sizeof(dir), "%s/images", top);
		check(!mkdir(dir, 0700));
		atexit(cleanup);
	}
	run_twice(data, size, run);
	return 0;
}
