/* dump-push: `dump --page-server`, a dump whose images go to a page server's directory.
 *
 * Contract: dump_push_open() loads the key (--auth-key, or --insecure), connects to
 * --address/--port before anything of the tree is touched (a server that refuses, or holds
 * another dump, or has another key, fails the dump at once, in its own words), and makes
 * sh->dir a sink (images/img.h: img_dir_open_sink()) into it: every image file goes there, in
 * the order the dump commits them, inventory.img last. With index (-D, opened and locked by the
 * caller, which hands it over) every file but the pages files is also written there as it goes,
 * the same bytes: a local index of the set (a pre-dump chain's next round reads its pagemaps
 * there: --prev-images-dir), removed with the rest by a discard. dump_push_finish(), once every
 * file is sent, waits for the server to say every file is fsync'd and in place and checked
 * against the manifest: only then is the tree killed (or left running). A dump that fails
 * before removes what it sent through img_dir_remove_written(), which tells the server to
 * discard it and waits for it to confirm. dump_push_close() ends the connection. 0 or -errno,
 * logged. */
#ifndef CRIU_LITE_DUMP_PUSH_H
#define CRIU_LITE_DUMP_PUSH_H

#include "criu-lite/dump/dump.h"

int dump_push_open(struct dump_shared *sh, struct img_dir *index);
int dump_push_finish(struct dump_shared *sh);
void dump_push_close(struct dump_shared *sh);

#endif
