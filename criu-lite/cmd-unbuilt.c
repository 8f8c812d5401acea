/* Subcommands that are not built yet: each says so and exits 2, never pretends. */
#include "criu-lite/cli.h"
#include "criu-lite/log.h"

static int unbuilt(const struct opts *o, const char *issue)
{
	pr_err("'%s' is not built yet in this version of criu-lite (%s)\n", o->cmd, issue);
	return 2;
}

int cmd_pre_dump(const struct opts *o)
{
	return unbuilt(o, "iterative dumps with dirty tracking");
}
