/* fault: fault injection for tests. Every dump and restore step is a named
 * site; when env CRIU_LITE_FAULT names that site (read once into the parsed
 * options), fault_inject() logs it and fails the step with -EIO, so tests can
 * prove that a failure at any step leaves the tree as it was. "SITE:kill" makes
 * criu-lite SIGKILL itself there instead, as a crash would: nothing of it runs
 * after, so what the tree looks like then is what a dead dumper leaves.
 * "SITE:stop" makes it stop itself there (SIGSTOP) and go on when continued: a
 * test can look at what it holds meanwhile (the image directory's lock). */
#ifndef CRIU_LITE_FAULT_H
#define CRIU_LITE_FAULT_H

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "criu-lite/cli.h"
#include "criu-lite/log.h"

static inline int fault_inject(const struct opts *o, const char *site)
{
	size_t n = strlen(site);

	if (!o->fault_site || strncmp(o->fault_site, site, n) != 0)
		return 0;
	if (!strcmp(o->fault_site + n, ":kill")) {
		pr_err("killing criu-lite at step '%s' (CRIU_LITE_FAULT)\n", site);
		raise(SIGKILL);
	}
	if (!strcmp(o->fault_site + n, ":stop")) {
		pr_err("stopping criu-lite at step '%s' (CRIU_LITE_FAULT): SIGCONT goes on\n",
		       site);
		raise(SIGSTOP);
		return 0;
	}
	if (o->fault_site[n])
		return 0;
	pr_err("fault injected at step '%s' (CRIU_LITE_FAULT)\n", site);
	return -EIO;
}

#endif
