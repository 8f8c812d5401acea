/* cli: option parsing and per-subcommand help. See cli.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-lite/cli.h"

enum {
	O_LEAVE_RUNNING = 256,
	O_SHELL_JOB,
	O_LAZY_PAGES,
	O_PAGE_SERVER,
	O_ADDRESS,
	O_PORT,
	O_PREV_IMAGES_DIR,
	O_TRACK_MEM,
	O_PIDFILE,
	O_JSON,
	O_ALL,
};

static const struct option long_opts[] = {
	{ "tree", required_argument, NULL, 't' },
	{ "images-dir", required_argument, NULL, 'D' },
	{ "log-file", required_argument, NULL, 'o' },
	{ "verbosity", optional_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "restore-detached", no_argument, NULL, 'd' },
	{ "leave-running", no_argument, NULL, O_LEAVE_RUNNING },
	{ "shell-job", no_argument, NULL, O_SHELL_JOB },
	{ "lazy-pages", no_argument, NULL, O_LAZY_PAGES },
	{ "page-server", no_argument, NULL, O_PAGE_SERVER },
	{ "address", required_argument, NULL, O_ADDRESS },
	{ "port", required_argument, NULL, O_PORT },
	{ "prev-images-dir", required_argument, NULL, O_PREV_IMAGES_DIR },
	{ "track-mem", no_argument, NULL, O_TRACK_MEM },
	{ "pidfile", required_argument, NULL, O_PIDFILE },
	{ "json", no_argument, NULL, O_JSON },
	{ "all", no_argument, NULL, O_ALL },
	{ 0 },
};

struct subcmd {
	const char *name;
	const char *synopsis;
	const char *about;
	const int *allowed; /* option values accepted besides -D -o -v -h; 0-terminated */
	const char *opt_help;
};

static const int dump_opts[] = {
	't',	   O_LEAVE_RUNNING, O_SHELL_JOB,       O_LAZY_PAGES, O_PAGE_SERVER,
	O_ADDRESS, O_PORT,	    O_PREV_IMAGES_DIR, O_TRACK_MEM,  0
};
static const int restore_opts[] = { 'd', O_SHELL_JOB, O_LAZY_PAGES, O_PIDFILE, 0 };
static const int lazy_opts[] = { O_PAGE_SERVER, O_ADDRESS, O_PORT, 0 };
static const int ps_opts[] = { O_ADDRESS, O_PORT, 0 };
static const int check_opts[] = { O_JSON, O_ALL, 0 };
static const int none_opts[] = { 0 };

static const char common_help[] =
    "  -D, --images-dir DIR   image directory (default: .)\n"
    "  -o, --log-file FILE    log to FILE instead of stderr\n"
    "  -v[0-4]                verbosity: 0 quiet .. 4 debug (default 2)\n"
    "  -h, --help             this help\n";

static const struct subcmd subcmds[] = {
	{ "dump", "dump -t PID -D DIR [options]", "checkpoint a process tree into DIR", dump_opts,
	  "  -t, --tree PID         root of the tree to dump\n"
	  "  --leave-running        resume the tree after dumping (default: kill it)\n"
	  "  --shell-job            the tree is attached to a terminal; keep it\n"
	  "  --lazy-pages           leave private anonymous pages for lazy restore\n"
	  "  --page-server          send pages to a page server (--address, --port)\n"
	  "  --prev-images-dir DIR  write only pages changed since that pre-dump\n"
	  "  --track-mem            arm dirty-page tracking for a next iteration\n" },
	{ "pre-dump", "pre-dump -t PID -D DIR [options]",
	  "copy memory while the tree keeps running (for iterative migration)", dump_opts,
	  "  -t, --tree PID         root of the tree\n"
	  "  --prev-images-dir DIR  the previous pre-dump\n"
	  "  --track-mem            arm dirty-page tracking\n" },
	{ "restore", "restore -D DIR [options]", "restore a process tree from DIR", restore_opts,
	  "  -d, --restore-detached return once the tree runs (default: wait for it)\n"
	  "  --shell-job            restore the controlling terminal\n"
	  "  --lazy-pages           take pages from a running `criu-lite lazy-pages`\n"
	  "  --pidfile FILE         write the root task's pid to FILE\n" },
	{ "lazy-pages", "lazy-pages -D DIR [options]",
	  "serve page faults of a lazily restored tree", lazy_opts,
	  "  --page-server          fetch pages from a remote page server\n"
	  "  --address ADDR, --port PORT  where that server is\n" },
	{ "page-server", "page-server -D DIR --port PORT [--address ADDR]",
	  "receive or serve pages over TCP", ps_opts,
	  "  --address ADDR         address to listen on\n"
	  "  --port PORT            port to listen on\n" },
	{ "check", "check [--json] [--all]", "probe the kernel for every feature criu-lite uses",
	  check_opts,
	  "  --json                 machine-readable output\n"
	  "  --all                  also run probes that change the system briefly (zram swap)\n" },
	{ "show", "show DIR|FILE...", "print images as JSON", none_opts, "" },
};

static const struct subcmd *find_subcmd(const char *name)
{
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (name && strcmp(subcmds[i].name, name) == 0)
			return &subcmds[i];
	return NULL;
}

void usage(const char *cmd)
{
	const struct subcmd *s = find_subcmd(cmd);

	if (s) {
		printf("Usage: criu-lite %s\n\n%s.\n\nOptions:\n%s%s", s->synopsis, s->about,
		       s->opt_help, common_help);
		return;
	}
	printf("Usage: criu-lite COMMAND [options]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		printf("  %-12s %s\n", subcmds[i].name, subcmds[i].about);
	printf("\n`criu-lite COMMAND --help` describes a command's options.\n");
}

static const char *opt_name(int c)
{
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

static bool allowed(const struct subcmd *s, int c)
{
	if (c == 'D' || c == 'o' || c == 'v' || c == 'h')
		return true;
	for (const int *a = s->allowed; *a; a++)
		if (*a == c)
			return true;
	return false;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_cli(int argc, char **argv, struct opts *o)
{
	const struct subcmd *s;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->verbosity = 2;
	o->images_dir = ".";
	o->fault_site = getenv("CRIU_LITE_FAULT");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(NULL);
		return argc < 2 ? -1 : 1;
	}
	s = find_subcmd(argv[1]);
	if (!s) {
		fprintf(stderr, "criu-lite: unknown command '%s' (see criu-lite --help)\n",
			argv[1]);
		return -1;
	}
	o->cmd = s->name;
	argv++;
	argc--;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:D:o:v::hd", long_opts, NULL)) != -1) {
		if (c == '?') {
			if (optopt)
				fprintf(stderr, "criu-lite %s: unknown option '-%c'\n", s->name,
					optopt);
			else
				fprintf(stderr, "criu-lite %s: unknown option '%s'\n", s->name,
					argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			fprintf(stderr, "criu-lite %s: option '%s' needs an argument\n", s->name,
				argv[optind - 1]);
			return -1;
		}
		if (!allowed(s, c)) {
			fprintf(stderr,
				"criu-lite %s: option '--%s' does not apply to this command\n",
				s->name, opt_name(c));
			return -1;
		}
		switch (c) {
		case 'h':
			usage(s->name);
			return 1;
		case 't':
			if (parse_num(optarg, 1, 4194304, &v)) {
				fprintf(stderr, "criu-lite %s: bad pid '%s'\n", s->name, optarg);
				return -1;
			}
			o->tree = (pid_t)v;
			break;
		case 'D':
			o->images_dir = optarg;
			break;
		case 'o':
			o->log_file = optarg;
			break;
		case 'v':
			if (!optarg)
				o->verbosity = 4;
			else if (parse_num(optarg, 0, 4, &v) == 0)
				o->verbosity = (int)v;
			else if (strspn(optarg, "v") == strlen(optarg)) /* -vvv */
				o->verbosity =
				    3 + (int)strlen(optarg) > 4 ? 4 : 3 + (int)strlen(optarg);
			else {
				fprintf(stderr, "criu-lite %s: bad verbosity '%s' (0-4)\n", s->name,
					optarg);
				return -1;
			}
			break;
		case 'd':
			o->restore_detached = true;
			break;
		case O_LEAVE_RUNNING:
			o->leave_running = true;
			break;
		case O_SHELL_JOB:
			o->shell_job = true;
			break;
		case O_LAZY_PAGES:
			o->lazy_pages = true;
			break;
		case O_PAGE_SERVER:
			o->page_server = true;
			break;
		case O_ADDRESS:
			o->address = optarg;
			break;
		case O_PORT:
			if (parse_num(optarg, 1, 65535, &v)) {
				fprintf(stderr, "criu-lite %s: bad port '%s'\n", s->name, optarg);
				return -1;
			}
			o->port = (int)v;
			break;
		case O_PREV_IMAGES_DIR:
			o->prev_images_dir = optarg;
			break;
		case O_TRACK_MEM:
			o->track_mem = true;
			break;
		case O_PIDFILE:
			o->pidfile = optarg;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_ALL:
			o->all = true;
			break;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->nargs && strcmp(s->name, "show") != 0) {
		fprintf(stderr, "criu-lite %s: unexpected argument '%s'\n", s->name, o->args[0]);
		return -1;
	}
	return 0;
}
