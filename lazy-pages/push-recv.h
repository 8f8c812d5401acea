/* push-recv: the receiving side of a push (dump --page-server; lazy-pages/page-server.h): one
 * dump's image set, file by file, into the page server's directory.
 *
 * Contract: push_receive() reads the frames of a PUSH connection that follow its HELLO, through
 * the caller's transport (xfer-msg.h), until the sender's DONE:
 * - FILE_BEGIN name, with no file open: the name of an image file (it ends in ".img"; xfer-msg
 *   checked it is one component: no '/', not "." or ".."), not one this push received already,
 *   at most PUSH_MAX_FILES of them: created as "<name>.tmp" in d, through d's fd, with
 *   PUSH_OPEN_FLAGS (what the sandbox allows there: ps-sandbox.h; read too, for the read-back
 *   below);
 * - FILE_DATA offset + payload, the file open, ending at most at PUSH_MAX_FILE bytes: written
 *   there; any order, any overlap;
 * - FILE_END size, crc32c: the file must be size bytes long and its manifest crc32c (the one
 *   img_file_crc() computes: a record file's without its trailer's crc field) must be crc32c
 *   (summed as the data came when it came in order, else read back); then fsync, renamed into
 *   place (renameat2 RENAME_NOREPLACE: never over a file), and the directory fsync'd;
 * - DONE, no file open: the last file was inventory.img, whose dump id is dump_id (the HELLO's)
 *   and whose manifest lists exactly the other files received, each with the size and crc32c
 *   it came with.
 * 0 then, the files in place, their names in *out in the order they came (push_files_free());
 * the caller answers DONE, or, if it can't, removes them with push_files_discard(). Anything
 * else (another frame, a bound or a check broken, the sender's ERROR, the connection closed or
 * failed) removes everything this push put in d (the open temp file, the files in place,
 * inventory.img first), and returns -errno with err saying why: -ECONNABORTED the sender gave up
 * (its text), -EPIPE the connection closed, -EBADMSG a check failed, -EPROTO a frame out of
 * place, -EFBIG a bound; a transport or file error as it came. It never writes outside d (every
 * name is taken relative to d's fd, one component, never a symlink) and never replaces a file.
 * payload is the caller's receive buffer (XFER_MAX_PAYLOAD bytes). Nothing prints. */
#ifndef CRIU_LITE_PUSH_RECV_H
#define CRIU_LITE_PUSH_RECV_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include "images/img.h"
#include "lazy-pages/xfer-msg.h"

#define PUSH_MAX_FILE  (1ULL << 40) /* bytes of one file */
#define PUSH_MAX_FILES (1u << 17)   /* files of one push */
/* a temp file of a push: new (never one that is there, nor through a symlink) */
#define PUSH_OPEN_FLAGS (O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

struct push_files {
	char **names;
	size_t n;
	uint64_t bytes; /* the sum of their sizes */
};

int push_receive(xfer_read_fn rd, void *ctx, const char *peer, struct img_dir *d, uint32_t dump_id,
		 void *payload, struct push_files *out, struct img_err *err);
/* Remove the files of f from d, inventory.img (the last) first; then fsync d. */
void push_files_discard(struct img_dir *d, const struct push_files *f);
void push_files_free(struct push_files *f);

#endif
