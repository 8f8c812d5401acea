/* fault: fault injection for tests. Every dump and restore step is a named
 * site; when env CRIU_LITE_FAULT names that site (read once into the parsed
 * options), fault_inject() logs it and fails the step with -EIO, so tests can
 * prove that a failure at any step leaves the tree as it was. */
#ifndef CRIU_LITE_FAULT_H
#define CRIU_LITE_FAULT_H

#include <errno.h>
#include <string.h>

#include "criu-lite/cli.h"
#include "criu-lite/log.h"

static inline int fault_inject(const struct opts *o, const char *site)
{
	if (!o->fault_site || strcmp(o->fault_site, site) != 0)
		return 0;
	pr_err("fault injected at step '%s' (CRIU_LITE_FAULT)\n", site);
	return -EIO;
}

#endif
