/* flavor-precopy: see flavor-precopy.c. precopy_checkpoint(): the rounds and the final dump;
 * 0, or -errno after run_why(). */
#ifndef ZDTM_FLAVOR_PRECOPY_H
#define ZDTM_FLAVOR_PRECOPY_H

struct test_run;

int precopy_checkpoint(struct test_run *t);

#endif
