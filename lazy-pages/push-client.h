/* push-client: the sending side of a push (dump --page-server): a dump's image set, file by
 * file, into a page server's directory (proto/pagexfer.proto, role PUSH; the server's side:
 * push-recv.h).
 *
 * Contract:
 * - push_connect() connects (xfer-conn.h, within PUSH_CONNECT_MS), says HELLO (role PUSH, a
 *   random session, the dump id of the set) and waits for HELLO_OK. A server that refuses (it
 *   holds a dump, or takes another push, or the keys differ) is -errno with err saying so (the
 *   server's own words, from its ERROR).
 * - push_sink_ops, with the client as arg, is the sink of an img_dir (images/img.h:
 *   img_dir_open_sink()): begin sends FILE_BEGIN, data FILE_DATA frames of at most
 *   XFER_MAX_PAYLOAD bytes each, end FILE_END, discard is push_abort(). Sends are serialized
 *   (a lock): the page writer's thread and the dump's take turns, frame by frame. Before each
 *   frame it looks (without waiting) whether the server said something: only an ERROR may come
 *   during a push (the server gave up: it discarded the files first), and it fails the push
 *   with the server's words. The first failure is kept: every later call fails with it.
 * - push_finish(): DONE, then the server's DONE within PUSH_DONE_MS: every file is then
 *   fsync'd, renamed into place and checked against the manifest there. -errno with err
 *   otherwise (the server's ERROR, or the connection's failure).
 * - push_abort(why): the server is to discard what it has. Unless it said ERROR already (it
 *   discarded then), ERROR with why is sent, and the client waits (PUSH_ABORT_MS) for the
 *   server to close the connection, which it does once the files are gone: 0 then; -errno with
 *   err when that can't be known (the connection failed, or no close in time: a server
 *   discards a push whose connection breaks, but the client can't see it).
 * - push_bytes(): the bytes of payload sent; push_peer(): "page server ADDR:PORT".
 * Nothing prints. A client pushes one set; push_close() frees it (after finish or abort, or
 * without: the server then sees the connection close and discards). */
#ifndef CRIU_LITE_PUSH_CLIENT_H
#define CRIU_LITE_PUSH_CLIENT_H

#include <stdint.h>

#include "images/img.h"
#include "lazy-pages/xfer-conn.h"

#define PUSH_CONNECT_MS 10000
#define PUSH_IO_MS	300000 /* the server takes no byte that long (it fsyncs a large file) */
#define PUSH_DONE_MS	300000 /* every file fsync'd and checked */
#define PUSH_ABORT_MS	10000

struct push_client;

int push_connect(const char *addr, uint16_t port, const struct xfer_auth *auth, uint32_t dump_id,
		 struct push_client **out, struct img_err *err);
extern const struct img_sink_ops push_sink_ops;
int push_finish(struct push_client *pc, struct img_err *err);
int push_abort(struct push_client *pc, const char *why, struct img_err *err);
uint64_t push_bytes(const struct push_client *pc);
const char *push_peer(const struct push_client *pc);
void push_close(struct push_client *pc);

#endif
