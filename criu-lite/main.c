/* criu-lite: entry point. Parses the command line, sets up logging and runs
 * one subcommand (cmd-*.c). Exit codes: 0 success, 1 failure, 2 usage or a
 * command that is not built yet. */
#include <stdio.h>
#include <string.h>

#include "criu-lite/cli.h"
#include "criu-lite/log.h"

static const struct {
	const char *name;
	int (*fn)(const struct opts *o);
} cmds[] = {
	{ "dump", cmd_dump },
	{ "pre-dump", cmd_pre_dump },
	{ "restore", cmd_restore },
	{ "lazy-pages", cmd_lazy_pages },
	{ "page-server", cmd_page_server },
	{ "check", cmd_check },
	{ "show", cmd_show },
};

int main(int argc, char **argv)
{
	struct opts o;
	int ret = parse_cli(argc, argv, &o);

	if (ret) {
		free_cli(&o);
		return ret > 0 ? 0 : 2;
	}
	if (log_init(o.log_file, o.verbosity)) {
		free_cli(&o);
		return 1;
	}
	ret = 2;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, o.cmd) == 0)
			ret = cmds[i].fn(&o);
	log_fini();
	free_cli(&o);
	return ret;
}
