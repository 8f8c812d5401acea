/* needs: what a test may need from the machine (tests.desc "needs=a,b").
 *
 * Contract: needs_parse() turns a comma list into a mask (-EINVAL on an
 * unknown name, which it does not report: the table parser does, with the
 * line); needs_unmet() says which need is missing and why, or NULL. */
#ifndef ZDTM_NEEDS_H
#define ZDTM_NEEDS_H

#include <stddef.h>

int needs_parse(const char *list, unsigned *mask);
const char *needs_unmet(unsigned mask, char *buf, size_t len);
/* The names of the needs in mask, "root,zram", into buf; ~0u: all known ones. */
void needs_names(unsigned mask, char *buf, size_t len);

#endif
