/* flavor-pre: the checkpoint of flavor pre (pre-dumps, then a dump against the last), which
 * flavor pre-lazy (flavor-lazy.c) reuses. */
#ifndef ZDTM_FLAVOR_PRE_H
#define ZDTM_FLAVOR_PRE_H

struct test_run;

int pre_checkpoint(struct test_run *t);

#endif
