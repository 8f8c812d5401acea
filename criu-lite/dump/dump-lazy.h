/* dump-lazy: `dump --lazy-pages`, the source of a lazy migration.
 *
 * Contract: with --lazy-pages, the dump writes every image but the tasks' pages: their page
 * writers only sum the pages (page_writer_open_elsewhere(): the pagemaps and the manifest say
 * what the pages files would hold, chunk by chunk); shared memory objects' pages are written
 * as usual. dump_lazy_serve() then, with the tree still frozen and every image in place,
 * serves one destination (`criu-lite lazy-pages --page-server` there) from --address/--port
 * (lazy-pages/page-server.h, single session): the tasks' pages straight from their memory
 * (/proc/PID/mem), the shared objects' from their files. It returns 0 when the destination
 * said it has every page (the dump then kills the tree, as a dump does), and -errno when it
 * went away before, or the dump got SIGINT or SIGTERM: the dump then fails, resumes the tree
 * as it was and removes the images. Messages name the address, the peer and the pages. */
#ifndef CRIU_LITE_DUMP_LAZY_H
#define CRIU_LITE_DUMP_LAZY_H

#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump.h"

int dump_lazy_serve(struct dump_shared *sh, struct dump_tree_list *tl);

#endif
