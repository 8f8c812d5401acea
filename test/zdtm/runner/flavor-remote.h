/* flavor-remote: the hosts and servers of flavors ps-lazy and remote-lazy (flavor-lazy.c does
 * the rest); flavor remote (flavor-push.c) takes the hosts, the key and the clean-up. Host B holds
 * a copy of the image directory without the pages files (t->rimages), where `criu-lite lazy-pages
 * --page-server` (in B's network namespace) serves the restore, every page coming over the veth
 * from host A (HOST_A_ADDR, REMOTE_PORT, TLS with a key of the run):
 * - ps-lazy: the test is dumped as in h; a `criu-lite page-server` serves its images from A;
 * - remote-lazy, a lazy migration: the test runs as pid 1 of a PID namespace of its own;
 *   remote_migrate() is its checkpoint: `criu-lite dump --lazy-pages` in A, which keeps the
 *   tree frozen and serves its memory; the restore on B makes a new PID namespace; once B has
 *   every page the source kills its tree (remote_check(): the dump exits 0, the tree is gone).
 *
 * Contract: remote_prepare() (with the hosts and the key), remote_setup() (ps-lazy, after the
 * dump: B's directory, the page server, -d, its pid in page-server.pid, its log in
 * page-server.log), remote_migrate() (remote-lazy's checkpoint: the source's dump started,
 * with the options of tests.desc opts= (desc_criu_args()), its log in dump.log, and B's
 * directory once the images are complete), remote_lazy_args()
 * (what lazy-pages takes), remote_check() (after lazy-pages exited 0: every page came from
 * A — lazy-pages.json remote_bytes is not 0 when pages were lazy —; then ps-lazy's page server
 * must stop on SIGTERM, exit 0 and have served exactly one session, or remote-lazy's source
 * dump must exit 0 and its tree be gone), remote_cleanup() (the server or the source killed,
 * the hosts removed, whatever happened). Each returns 0 or -errno after run_why(). */
#ifndef ZDTM_FLAVOR_REMOTE_H
#define ZDTM_FLAVOR_REMOTE_H

#include <stdbool.h>

#define REMOTE_PORT "7000"

struct test_run;

int remote_prepare(struct test_run *t);
int remote_setup(struct test_run *t);
/* `criu-lite page-server -D dir` on host A or B (on_b), -d, its pid in t->psd and
 * page-server.pid, its figures in page-server.json, its log in page-server.log */
int remote_page_server(struct test_run *t, const char *dir, bool on_b);
int remote_migrate(struct test_run *t);
/* The same against a pre-dump chain: dump --prev-images-dir prev (relative to the images),
 * B's directory b/images beside B's copies of the chain (b/preK: flavor-precopy.c). */
int remote_migrate_from(struct test_run *t, const char *prev);
/* argv entries for lazy-pages (NULL-terminated, static strings and t's) into v[0..9] */
void remote_lazy_args(struct test_run *t, char **v);
int remote_check(struct test_run *t);
void remote_cleanup(struct test_run *t);
/* "key": N in the JSON text (a --stats-file): N, or -1 when missing (or json NULL). */
double remote_json_num(const char *json, const char *key);

#endif
