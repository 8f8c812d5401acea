/* flavor-h: the hooks of flavor h, which the lazy flavors (flavor-lazy.c) reuse. */
#ifndef ZDTM_FLAVOR_H_HOOKS_H
#define ZDTM_FLAVOR_H_HOOKS_H

struct test_run;

int h_prepare(struct test_run *t);
int h_checkpoint(struct test_run *t);
/* opts=leave-running, after the dump: the tree runs free; then it is killed. */
int h_left_running(struct test_run *t);
/* rfaults=, rkills=, rkillrand=, corrupt=: the restores that must fail (plain ones). */
int h_failing_restores_first(struct test_run *t);
/* The restore of flavor h (after those), with up to 5 extra arguments (NULL-terminated), in
 * t->restore_netns (NULL: the runner's network namespace). */
int h_restore_with(struct test_run *t, const char *const *extra);
int h_exit_status(struct test_run *t, int *status);
void h_cleanup(struct test_run *t);
/* "criu-lite <what> ..." with its output in t->dir/<what>.log, env one "NAME=VALUE" or NULL;
 * 0, or -errno after run_why(). */
int h_run_criu(struct test_run *t, const char *what, char **argv, const char *env);
/* The same inside the network namespace file netns (NULL: the runner's). */
int h_run_criu_in(struct test_run *t, const char *what, char **argv, const char *env,
		  const char *netns);

#endif
