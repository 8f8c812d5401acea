/* flavor: the registry of flavors, and nocr, the flavor without a checkpoint
 * (it runs the harness's own tests until dump and restore exist). */
#include <stddef.h>
#include <string.h>

#include "flavor.h"

static const struct flavor flavor_nocr = {
	.name = "nocr",
	.help = "no checkpoint: start, SIGTERM, verdict (tests the harness and the tests)",
};

static const struct flavor *const registry[] = {
	&flavor_nocr,	  &flavor_h,	       &flavor_pidns,	 &flavor_lazy,
	&flavor_ps_lazy,  &flavor_remote_lazy, &flavor_remote,	 &flavor_pre,
	&flavor_pre_lazy, &flavor_pre_remote,  &flavor_snapshot,
};

#define NR_FLAVORS ((int)(sizeof(registry) / sizeof(registry[0])))

const struct flavor *flavor_at(int i)
{
	return i >= 0 && i < NR_FLAVORS ? registry[i] : NULL;
}

const struct flavor *flavor_find(const char *name)
{
	for (int i = 0; i < NR_FLAVORS; i++) {
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	}
	return NULL;
}

int flavor_index(const struct flavor *f)
{
	for (int i = 0; i < NR_FLAVORS; i++) {
		if (registry[i] == f)
			return i;
	}
	return -1;
}
