/* statskeys: figures a criu-lite command wrote with --stats-file that a test needs above 0
 * (tests.desc lazystats=, prestats=).
 *
 * Contract: stats_keys_positive() reads t->dir/file (JSON as criu-lite writes it: "key": N) and
 * checks that every key of the comma list keys (NULL: none) is there with a value above 0; 0,
 * or -errno after run_why() naming the file and the key. */
#ifndef ZDTM_STATSKEYS_H
#define ZDTM_STATSKEYS_H

struct test_run;

int stats_keys_positive(struct test_run *t, const char *file, const char *keys);
/* The integer figure key of t->dir/file, or -1 when the file or the key is missing. */
long stats_key(struct test_run *t, const char *file, const char *key);

#endif
