/* page-source: where the pages of a lazy restore come from, behind one interface: the local
 * image files, or a page server on another host (page-source-remote.c).
 *
 * Contract: an address space is named by its kind and image id: IMG_PAGEMAP and a task's dumped
 * pid, or IMG_SHMEM_PAGEMAP and a shared memory object's id (addresses are then offsets in the
 * object). runs() gives its page runs (images/pages.h, sorted by address), loading them on first
 * use. get() returns nr pages at addr, all inside one PE_PRESENT run, checked against the image's
 * checksums: a pointer the source keeps valid until the next get() or close, or buf (LAZY_PG * nr
 * bytes) filled. Errors are -errno, logged once by the source naming the image and address (a
 * damaged image: -EBADMSG). */
#ifndef CRIU_LITE_PAGE_SOURCE_H
#define CRIU_LITE_PAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/img.h"
#include "images/pages.h"

struct page_source;

/* Where a remote source's stream thread puts the pages it brings while a fault loop runs, with
 * no copy in between: deliver() gets bytes [off, off + len) of the pages file of (kind, id),
 * checked, in a buffer valid for the call only, and copies them in where they are pending. *all:
 * every page of it is where it belongs, nobody can need it again (false: the source keeps the
 * bytes for get() and queues them for arrived(), as without a sink); *wake: the fault loop has
 * something to look at (its last page came). Called with the source's serve lock held. */
struct page_sink {
	void *arg;
	void (*deliver)(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
			const void *data, bool *all, bool *wake);
};

struct page_source_ops {
	int (*runs)(struct page_source *s, enum img_kind kind, uint32_t id,
		    const struct page_run **runs, size_t *n);
	int (*get)(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t addr,
		   uint64_t nr, void *buf, const void **data);
	/* A remote source's (NULL for the local one):
	 * fetch(): bytes [off, off + len) of the pages file of (kind, id), checked; *data valid
	 * until close (a restore's eager pieces, LAZY_FETCH);
	 * arrived(): 1 and a range of a pages file that came unasked since the last call (the
	 * fault loop copies it in where it is still pending), 0 when none; notify_fd is readable
	 * while there may be one;
	 * streaming(): more may still arrive unasked (false: prefetch asks for what it needs). */
	int (*fetch)(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t off,
		     uint64_t len, const void **data);
	int (*arrived)(struct page_source *s, enum img_kind *kind, uint32_t *id, uint64_t *off,
		       uint64_t *len);
	bool (*streaming)(struct page_source *s);
	/* A remote source's too: serve_lock(): the fault loop holds the source's serve lock
	 * whenever it works on what a sink's deliver() works on (it lets go only to wait; urgent:
	 * it has a fault to serve, the stream steps aside), and set_sink() (under it) gives the
	 * sink (NULL: none, from now on). */
	void (*serve_lock)(struct page_source *s, bool on, bool urgent);
	void (*set_sink)(struct page_source *s, const struct page_sink *sink);
	void (*close)(struct page_source *s);
};

struct page_source {
	const struct page_source_ops *ops;
	int notify_fd; /* -1: none */
};

/* Where nr pages at addr of (kind, id) lie in its pages file (one PE_PRESENT run of r must
 * hold them all): 0 and *off, or -ENOENT, logged naming the image and the address. */
int page_source_offset(const struct page_reader *r, enum img_kind kind, uint32_t id, uint64_t addr,
		       uint64_t nr, uint64_t *off);

/* The page images of the directory d (which stays the caller's). With preload, every page
 * image (the tasks' and the shared objects') is opened (and checked) now rather than at its first
 * use: the server does it while the restore checks the images, and serves the first fault at once.
 */
int page_source_local(struct img_dir *d, bool preload, struct page_source **out);

/* A page server: address (numeric IPv4 or IPv6), port, and the key (xfer-conn.h). The local
 * directory d holds the dump's images but its pages files (which need not be there): the
 * pagemaps say where each page lies and what each chunk sums to. Both connections are open and
 * the session agreed (the server holds this dump) when it returns. */
struct xfer_auth;
struct remote_opts {
	const char *address;
	uint16_t port;
	const struct xfer_auth *auth;
	/* a connection that breaks is opened again, same session, for up to this many seconds
	 * (the server keeps the session as long: give both the same); the requests in flight
	 * are asked for again, the stream starts over (what came is not kept twice) */
	int reconnect_s;
};
struct remote_stats {
	uint64_t requests, pages_fault, pages_stream, bytes, reconnects;
	double wait_s; /* waiting for the answers on the faults connection */
};
int page_source_remote(struct img_dir *d, const struct remote_opts *o, struct page_source **out);
/* Tell the server this restore has every page (it may then let go of what it serves). */
int page_source_remote_done(struct page_source *s);
void page_source_remote_stats(struct page_source *s, struct remote_stats *st);

static inline void page_source_close(struct page_source *s)
{
	if (s)
		s->ops->close(s);
}

#endif
