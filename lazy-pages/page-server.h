/* page-server: the serving side of `criu-lite page-server -D DIR`: the pages of an image
 * directory, to lazy restores on other hosts (proto/pagexfer.proto); and, into a directory that
 * holds no dump, the receiving side of `dump --page-server` (a push).
 *
 * Contract: page_server_run() accepts connections on lsk until it is told to stop (*stop set by
 * a signal handler: it looks every 200 ms), then cuts the connections it has (a restore they
 * served is killed by its guardian) and waits for their threads; it
 * serves each in a thread of its own (several restores may be served at once, each from its own
 * readers of the directory's pages files, checked chunk by chunk as they are read):
 * - every connection is authenticated by the transport (xfer-conn.h) and starts with HELLO: a
 *   client of another protocol version, or that expects another dump (dump_id) than the
 *   directory holds, or a restore's while it holds none, gets ERROR saying so;
 * - FAULTS: each PAGES_REQ is answered in order with the pages asked for (zero pages as a
 *   zero_map): the session's stream then skips them and goes on from where the request ended;
 *   DONE from the client ends the session;
 * - STREAM: every chunk of every pages file of the directory not sent yet, in batches of
 *   PS_STREAM_BATCH bytes (whole checksum chunks), task images first, each in file order,
 *   jumping to where the last fault request ended; then STREAM_END.
 * - PUSH (a dump sent here: lazy-pages/push-recv.h), taken only when the directory held no image
 *   file when the server started (page_server_load()), holds no dump yet, no other push is
 *   under way, and the server is not a migration's source: else ERROR (EEXIST, EBUSY, ENOTSUP).
 *   Its files go into the directory under temp names, each checked and renamed into place at
 *   its end, the manifest checked at the sender's DONE; then the server loads the dump as it
 *   would one it found there, answers DONE, and serves it from then on (and takes no other
 *   push). A push that fails in any way (a check, the sender's ERROR, the connection) leaves
 *   nothing behind in the directory; the server then answers ERROR unless the sender gave up or
 *   went, and reads on for PS_PUSH_LINGER_MS (so that the sender's frames in flight do not meet
 *   a reset and it gets the reason), then closes. One line per push at info level.
 * A connection that breaks ends that connection only; the session's other one goes on, and the
 * session waits o->reconnect_s for its client to come back (same session id). One line
 * per session when it ends (pages by fault and by stream, time) at info level; errors name the
 * peer. Figures of every session add up in *st. Returns 0, or -errno when the server itself
 * cannot go on (the listening socket failed), or for a single session as below.
 *
 * page_server_run() in two steps, for a server that does something between them (the command
 * sandboxes itself, lazy-pages/ps-sandbox.h): page_server_load() reads what serving needs of
 * the directory, its dump id and every pagemap (each pages file must carry chunk checksums, its
 * size is taken), 0 or -errno after one message naming the file; a directory without
 * inventory.img that holds no image file (nor temp file) at all is empty: nothing to serve, a
 * push may come (page_server_dir_empty()); one that holds some is refused (-EEXIST: what a dump
 * or a push that did not finish left). page_server_serve() serves that, with the same o, and
 * reads only the pagemaps, pages files and inventory.img; an empty directory's server writes
 * into it, through its fd only (push-recv.h). d stays the caller's, open until
 * page_server_dir_free(); the caller holds its lock (img_dir_lock(), exclusive for an empty
 * one: no local dump may write into it meanwhile), which the server makes shared once a dump
 * pushed there is in place. */
#ifndef CRIU_LITE_PAGE_SERVER_H
#define CRIU_LITE_PAGE_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "images/img.h"
#include "lazy-pages/xfer-conn.h"

#define PS_STREAM_BATCH	 (256u << 10)
#define PS_HANDSHAKE_MS	 5000
#define PS_IO_TIMEOUT_MS 30000 /* a peer that takes no bytes (or sends none mid-frame) */
/* a push's: a dump between two files (seizing a large tree takes a while) */
#define PS_PUSH_IO_MS	  300000
#define PS_PUSH_LINGER_MS 2000

struct ps_stats {
	uint64_t sessions, connections, refused;
	uint64_t pages_fault, pages_stream, zero_pages, bytes_sent;
	uint64_t pages_total; /* in the directory's pages files (and live spaces) */
	uint64_t pushes, pushes_failed, bytes_received; /* dumps received; bytes of their files */
};

struct page_server_opts {
	volatile sig_atomic_t *stop; /* set by a signal handler: stop accepting */
	/* One session only (a migration source): other clients are refused (EBUSY) while it
	 * runs, and the server returns when it ends: 0 when its client said DONE,
	 * -ECONNABORTED when it ended before, -EINTR when stopped first. */
	bool single;
	/* The pages of a space without a pages file (a migration source: its frozen tree's
	 * memory): len bytes from byte off of the pages file it would have, into buf (at most
	 * XFER_MAX_PAYLOAD bytes); 0 or -errno (logged). Called from several threads at once.
	 * NULL: every space needs its pages file. */
	int (*live_read)(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
			 void *buf);
	void *live_arg;
	/* a session whose connections all went before its client said DONE is kept this many
	 * seconds for the client to reconnect (0: it ends at once); a STREAM that comes again
	 * sends everything again (the client keeps no chunk twice) */
	int reconnect_s;
	/* tests (CRIU_LITE_FAULT=lazy-stream-stall): a session's first stream stops after this
	 * many batches and waits for its connection to break (0: never) */
	unsigned stall_stream_after;
	/* every 200 ms or so, from the accepting thread: the figures so far (NULL: none) */
	void (*progress)(void *arg, const struct ps_stats *st);
	void *progress_arg;
};

int page_server_run(struct img_dir *d, int lsk, const struct xfer_auth *auth,
		    const struct page_server_opts *o, struct ps_stats *st);

struct page_server_dir;
int page_server_load(struct img_dir *d, const struct page_server_opts *o,
		     struct page_server_dir **out);
int page_server_serve(const struct page_server_dir *pd, int lsk, const struct xfer_auth *auth,
		      const struct page_server_opts *o, struct ps_stats *st);
bool page_server_dir_empty(const struct page_server_dir *pd);
void page_server_dir_free(struct page_server_dir *pd);

#endif
