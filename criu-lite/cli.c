/* cli: option parsing and per-subcommand help. See cli.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-lite/cli.h"
#include "criu-lite/version.h"
#include "images/img.h"

enum {
	O_LEAVE_RUNNING = 256,
	O_SHELL_JOB,
	O_LAZY_PAGES,
	O_PAGE_SERVER,
	O_ADDRESS,
	O_PORT,
	O_PREV_IMAGES_DIR,
	O_TRACK_MEM,
	O_SNAPSHOT,
	O_PIDFILE,
	O_JSON,
	O_ALL,
	O_STATS_FILE,
	O_OVERWRITE,
	O_EXTERNAL,
	O_INHERIT_FD,
	O_GHOST_LIMIT,
	O_LAZY_TIMEOUT,
	O_AUTH_KEY,
	O_INSECURE,
	O_RECONNECT_TIMEOUT,
	O_TCP_ESTABLISHED,
	O_TCP_CLOSE,
	O_NETWORK_LOCK,
	O_JOIN_NS,
	O_TRACK,
};

static const struct option long_opts[] = {
	{ "tree", required_argument, NULL, 't' },
	{ "images-dir", required_argument, NULL, 'D' },
	{ "log-file", required_argument, NULL, 'o' },
	{ "verbosity", optional_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "restore-detached", no_argument, NULL, 'd' },
	{ "daemon", no_argument, NULL, 'd' },
	{ "lazy-timeout", required_argument, NULL, O_LAZY_TIMEOUT },
	{ "leave-running", no_argument, NULL, O_LEAVE_RUNNING },
	{ "shell-job", no_argument, NULL, O_SHELL_JOB },
	{ "lazy-pages", no_argument, NULL, O_LAZY_PAGES },
	{ "page-server", no_argument, NULL, O_PAGE_SERVER },
	{ "address", required_argument, NULL, O_ADDRESS },
	{ "port", required_argument, NULL, O_PORT },
	{ "prev-images-dir", required_argument, NULL, O_PREV_IMAGES_DIR },
	{ "track-mem", no_argument, NULL, O_TRACK_MEM },
	{ "snapshot", no_argument, NULL, O_SNAPSHOT },
	{ "track", required_argument, NULL, O_TRACK },
	{ "pidfile", required_argument, NULL, O_PIDFILE },
	{ "json", no_argument, NULL, O_JSON },
	{ "all", no_argument, NULL, O_ALL },
	{ "stats-file", required_argument, NULL, O_STATS_FILE },
	{ "overwrite", no_argument, NULL, O_OVERWRITE },
	{ "external", required_argument, NULL, O_EXTERNAL },
	{ "inherit-fd", required_argument, NULL, O_INHERIT_FD },
	{ "ghost-limit", required_argument, NULL, O_GHOST_LIMIT },
	{ "auth-key", required_argument, NULL, O_AUTH_KEY },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "reconnect-timeout", required_argument, NULL, O_RECONNECT_TIMEOUT },
	{ "tcp-established", no_argument, NULL, O_TCP_ESTABLISHED },
	{ "tcp-close", no_argument, NULL, O_TCP_CLOSE },
	{ "network-lock", required_argument, NULL, O_NETWORK_LOCK },
	{ "join-ns", required_argument, NULL, O_JOIN_NS },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

struct subcmd {
	const char *name;
	const char *synopsis;
	const char *about;
	const int *allowed; /* option values accepted besides -D -o -v -h; 0-terminated */
	const char *opt_help;
};

static const int dump_opts[] = { 't',
				 O_LEAVE_RUNNING,
				 O_SHELL_JOB,
				 O_LAZY_PAGES,
				 O_PAGE_SERVER,
				 O_ADDRESS,
				 O_PORT,
				 O_AUTH_KEY,
				 O_INSECURE,
				 O_PREV_IMAGES_DIR,
				 O_TRACK_MEM,
				 O_TRACK,
				 O_SNAPSHOT,
				 O_STATS_FILE,
				 O_OVERWRITE,
				 O_EXTERNAL,
				 O_GHOST_LIMIT,
				 O_RECONNECT_TIMEOUT,
				 O_TCP_ESTABLISHED,
				 O_TCP_CLOSE,
				 O_NETWORK_LOCK,
				 0 };
static const int restore_opts[] = { 'd',
				    O_SHELL_JOB,
				    O_LAZY_PAGES,
				    O_LAZY_TIMEOUT,
				    O_PIDFILE,
				    O_STATS_FILE,
				    O_INHERIT_FD,
				    O_TCP_ESTABLISHED,
				    O_TCP_CLOSE,
				    O_NETWORK_LOCK,
				    O_JOIN_NS,
				    O_EXTERNAL,
				    0 };
static const int lazy_opts[] = { 'd',	 O_PIDFILE,  O_STATS_FILE, O_PAGE_SERVER,	O_ADDRESS,
				 O_PORT, O_AUTH_KEY, O_INSECURE,   O_RECONNECT_TIMEOUT, 0 };
static const int ps_opts[] = { 'd',	   O_PIDFILE,  O_STATS_FILE,	    O_ADDRESS, O_PORT,
			       O_AUTH_KEY, O_INSECURE, O_RECONNECT_TIMEOUT, 0 };
static const int predump_opts[] = { 't',	  O_PREV_IMAGES_DIR, O_TRACK_MEM,   O_TRACK,
				    O_STATS_FILE, O_OVERWRITE,	     O_PAGE_SERVER, O_ADDRESS,
				    O_PORT,	  O_AUTH_KEY,	     O_INSECURE,    0 };
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
	  "  --external pipe:[INO]  a pipe whose other end is outside the tree: dump it\n"
	  "                         anyway (restore then needs --inherit-fd for it)\n"
	  "  --external tty[MAJ:MIN]  a terminal of the host the tree holds (the console,\n"
	  "                         a virtual terminal): restore opens it again by its path\n"
	  "  --overwrite            DIR holds an earlier dump: remove its images first\n"
	  "  --ghost-limit SIZE     the most data a file deleted while open may hold to be\n"
	  "                         saved (K, M, G suffixes; default 64M)\n"
	  "  --stats-file FILE      write the dump's figures to FILE as JSON\n"
	  "  --lazy-pages           the source of a lazy migration: write every image but\n"
	  "                         the tasks' pages, keep the tree frozen and serve its\n"
	  "                         memory to one destination (`criu-lite lazy-pages\n"
	  "                         --page-server` there); once it has every page the tree\n"
	  "                         is killed here; if it goes away first, the tree resumes\n"
	  "  --page-server          send every image to `criu-lite page-server` on another\n"
	  "                         host, into its (empty) directory, instead of writing\n"
	  "                         them here; the tree is killed once the server has\n"
	  "                         every file in place; if the dump fails, the server\n"
	  "                         discards what it got. With -D, every file but the\n"
	  "                         pages files is also written to DIR (an index: what\n"
	  "                         a later --prev-images-dir DIR reads)\n"
	  "  --address ADDR, --port PORT  where to serve it (--lazy-pages; default address\n"
	  "                         0.0.0.0), where the page server is (--page-server)\n"
	  "  --auth-key FILE        the key both ends share (TLS 1.3, pre-shared key)\n"
	  "  --insecure             no encryption, no authentication (both ends)\n"
	  "  --reconnect-timeout SEC  how long a destination whose connections broke may\n"
	  "                         take to come back before the tree resumes (default 10;\n"
	  "                         --lazy-pages)\n"
	  "  --tcp-established      dump established TCP connections (TCP_REPAIR): they\n"
	  "                         are held, and their packets dropped (network lock),\n"
	  "                         until a restore with --tcp-established takes them\n"
	  "  --tcp-close            dump established TCP connections as closed (restored\n"
	  "                         unconnected); nothing is held or locked\n"
	  "  --network-lock nftables|skip  how packets of held connections are dropped from\n"
	  "                         the dump to the restore (default nftables; skip: not at\n"
	  "                         all, the caller does it)\n"
	  "  --prev-images-dir DIR  the last pre-dump of this tree (relative to -D, or\n"
	  "                         absolute): pages not written since are not copied\n"
	  "                         again, the images say they are there (a chain)\n"
	  "  --track-mem            with --leave-running: keep dirty-page tracking armed\n"
	  "                         for a later dump --prev-images-dir DIR\n"
	  "  --track auto|soft-dirty|uffd-wp  the tracking backend (default auto:\n"
	  "                         soft-dirty where the kernel has it, else uffd-wp)\n"
	  "  --snapshot             with --leave-running: a live snapshot; the tree is frozen\n"
	  "                         only to save its state and write-protect its memory,\n"
	  "                         which is copied while it runs (docs/snapshot.md)\n" },
	{ "pre-dump", "pre-dump -t PID -D DIR [--prev-images-dir PREV] [options]",
	  "copy the tree's private memory while it keeps running, and track what it writes "
	  "from now on (iterative migration)",
	  predump_opts,
	  "  -t, --tree PID         root of the tree\n"
	  "  --prev-images-dir DIR  the previous pre-dump (relative to -D, or absolute):\n"
	  "                         only pages written since are copied\n"
	  "  --track-mem            (implied: a pre-dump always leaves tracking armed)\n"
	  "  --track auto|soft-dirty|uffd-wp  the tracking backend (default auto)\n"
	  "  --overwrite            DIR holds an earlier dump: remove its images first\n"
	  "  --stats-file FILE      write the round's figures to FILE as JSON\n"
	  "  --page-server --address ADDR --port PORT (--auth-key FILE | --insecure)\n"
	  "                         send the round to `criu-lite page-server` there (a\n"
	  "                         server per round, each on an empty directory); -D\n"
	  "                         keeps its index here for the next round's\n"
	  "                         --prev-images-dir\n"
	  "The tree is frozen only while its memory is read. Shared memory (shared\n"
	  "anonymous, memfd, /dev/shm) is not pre-copied: the final dump copies it.\n" },

	{ "restore", "restore -D DIR [options]", "restore a process tree from DIR", restore_opts,
	  "  -d, --restore-detached return once the tree runs (default: wait for it)\n"
	  "  --shell-job            restore the controlling terminal\n"
	  "  --inherit-fd fd[N]:pipe:[INO]\n"
	  "                         our fd N takes the place of that external pipe\n"
	  "  --lazy-pages           start the tree before its memory (private and shared)\n"
	  "                         is in: the `criu-lite lazy-pages` serving DIR copies\n"
	  "                         it in on faults and in the background (start it\n"
	  "                         first)\n"
	  "  --lazy-timeout SEC     kill the tree if lazy-pages says nothing for SEC\n"
	  "                         seconds while pages are missing (default 30)\n"
	  "  --pidfile FILE         write the root task's pid to FILE\n"
	  "  --stats-file FILE      write the restore's figures to FILE as JSON\n"
	  "  --tcp-established      restore the established TCP connections of the dump\n"
	  "                         (and take its network lock away once they run)\n"
	  "  --tcp-close            restore them closed (unconnected) instead\n"
	  "  --network-lock nftables|skip  skip: leave the lock to the caller\n"
	  "  --join-ns net:PATH     the tree had a network namespace of its own: restore it\n"
	  "                         into this one (made by the caller) instead of a new one\n"
	  "  --external veth[INNER]:OUTER[@BRIDGE]\n"
	  "                         the outer end of the tree's veth INNER is made here as\n"
	  "                         OUTER (enslaved to BRIDGE) instead of as it was at dump\n" },
	{ "lazy-pages", "lazy-pages -D DIR [options]",
	  "serve the page faults of a tree restored with --lazy-pages from DIR", lazy_opts,
	  "  -d, --daemon           return once listening (on DIR/lazy-pages.sock)\n"
	  "  --pidfile FILE         write the server's pid to FILE\n"
	  "  --stats-file FILE      write fault latencies and page counts to FILE as JSON\n"
	  "  --page-server          the pages come from `criu-lite page-server` on another\n"
	  "                         host (DIR holds the other images, not the pages files)\n"
	  "  --address ADDR, --port PORT  where that server is\n"
	  "  --auth-key FILE        the key both ends share (TLS 1.3, pre-shared key)\n"
	  "  --insecure             no encryption, no authentication (both ends)\n"
	  "  --reconnect-timeout SEC  a broken connection is opened again for up to SEC\n"
	  "                         seconds before the restore fails (default 10)\n" },

	{ "page-server", "page-server -D DIR --port PORT [--address ADDR] --auth-key FILE",
	  "serve the pages of the dump in DIR to lazy restores on other hosts, or receive a "
	  "dump into DIR",
	  ps_opts,
	  "  --address ADDR         address to listen on (default 0.0.0.0)\n"
	  "  --port PORT            port to listen on\n"
	  "  --auth-key FILE        the key both ends share (TLS 1.3, pre-shared key; at\n"
	  "                         least 32 bytes, readable by its owner only)\n"
	  "  --insecure             no encryption, no authentication (both ends)\n"
	  "  --reconnect-timeout SEC  how long a client whose connections broke may take\n"
	  "                         to come back (default 10)\n"
	  "  -d, --daemon           return once listening\n"
	  "  --pidfile FILE         write the server's pid to FILE\n"
	  "  --stats-file FILE      write its figures to FILE as JSON when it stops\n"
	  "It serves until SIGTERM or SIGINT, several restores at once if asked. A DIR\n"
	  "that holds no dump takes one from `criu-lite dump --page-server` (one at a\n"
	  "time), and serves it once it is complete.\n" },

	{ "check", "check [--json] [--all]", "probe the kernel for every feature criu-lite uses",
	  check_opts,
	  "  --json                 machine-readable output\n"
	  "  --all                  also run probes that change the system briefly (zram swap)\n" },

	{ "show", "show DIR|FILE... (or -D DIR)", "print images as JSON", none_opts, "" },
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
	printf("\n`criu-lite COMMAND --help` describes a command's options; `criu-lite --version`\n"
	       "(-V) prints the version.\n");
}

/* The page-server options, together: what one needs, what does nothing without another. */
static int check_net(const char *cmd, const struct opts *o)
{
	bool dump = !strcmp(cmd, "dump") || !strcmp(cmd, "pre-dump");
	bool server = !strcmp(cmd, "page-server") || (dump && o->lazy_pages);
	bool client = (!strcmp(cmd, "lazy-pages") || dump) && o->page_server;

	if (!server && !client &&
	    (o->address || o->port || o->auth_key || o->insecure || o->reconnect_given)) {
		fprintf(stderr,
			"criu-lite %s: --address, --port, --auth-key, --insecure and "
			"--reconnect-timeout do nothing without %s\n",
			cmd, dump ? "--lazy-pages or --page-server" : "--page-server");
		return -1;
	}
	if (dump && o->page_server && o->lazy_pages) {
		fprintf(stderr, "criu-lite dump: --page-server and --lazy-pages exclude each other "
				"(a migration's source serves its pages itself)\n");
		return -1;
	}
	if (dump && o->page_server && o->reconnect_given) {
		fprintf(stderr, "criu-lite dump: --reconnect-timeout is for --lazy-pages: a push "
				"whose connection breaks fails, and the tree resumes\n");
		return -1;
	}
	if (dump && o->page_server && o->overwrite && !o->images_dir_given) {
		fprintf(stderr,
			"criu-lite %s: --overwrite with --page-server is for the local index (-D); "
			"the server takes a dump only into a directory that holds none\n",
			cmd);
		return -1;
	}
	if (o->tcp_established && o->tcp_close) {
		fprintf(stderr,
			"criu-lite %s: --tcp-established and --tcp-close exclude each other\n",
			cmd);
		return -1;
	}
	if (dump && o->lazy_pages && o->leave_running) {
		fprintf(stderr,
			"criu-lite dump: --lazy-pages and --leave-running exclude each other "
			"(a migrated tree ends here once the destination has it)\n");
		return -1;
	}
	if (!server && !client)
		return 0;
	if (!o->port || (client && !o->address)) {
		fprintf(stderr, "criu-lite %s: %s\n", cmd,
			server ? "--port is needed" : "--page-server needs --address and --port");
		return -1;
	}
	if (o->auth_key && o->insecure) {
		fprintf(stderr, "criu-lite %s: --auth-key and --insecure exclude each other\n",
			cmd);
		return -1;
	}
	if (!o->auth_key && !o->insecure) {
		fprintf(stderr,
			"criu-lite %s: give --auth-key FILE (the key both ends share), or "
			"--insecure for plaintext without authentication\n",
			cmd);
		return -1;
	}
	return 0;
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
	if (c == 'D' || c == 'o' || c == 'v' || c == 'h' || c == 'V')
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

/* "SIZE" in bytes, or with a K, M or G suffix (binary units, either case), as CRIU's
 * --ghost-limit takes it. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end && !end[1])
		switch (*end++) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			return -1;
		}
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

void free_cli(struct opts *o)
{
	free(o->external);
	free(o->inherit_fd);
	free(o->veth_external);
	o->external = NULL;
	o->inherit_fd = NULL;
	o->veth_external = NULL;
}

/* Combinations of the dirty-tracking options that would do nothing, or that are not built. */
static int check_track(const char *cmd, const struct opts *o)
{
	if (strcmp(cmd, "dump"))
		return 0;
	if (o->track_mem && !o->leave_running) {
		fprintf(stderr,
			"criu-lite dump: --track-mem does nothing without --leave-running (the "
			"tree is killed)\n");
		return -1;
	}
	if (o->snapshot && !o->leave_running) {
		fprintf(stderr,
			"criu-lite dump: --snapshot needs --leave-running (a dump that kills "
			"the tree gains nothing from a live snapshot)\n");
		return -1;
	}
	if (o->snapshot &&
	    (o->lazy_pages || o->page_server || o->prev_images_dir || o->track_mem)) {
		fprintf(stderr, "criu-lite dump: --snapshot with %s is not supported yet\n",
			o->lazy_pages	     ? "--lazy-pages"
			: o->page_server     ? "--page-server"
			: o->prev_images_dir ? "--prev-images-dir"
					     : "--track-mem");
		return -1;
	}
	if (o->track && !o->track_mem && !o->prev_images_dir) {
		fprintf(stderr, "criu-lite dump: --track does nothing without --track-mem or "
				"--prev-images-dir\n");
		return -1;
	}
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
	o->ghost_limit = CLI_GHOST_LIMIT_DEFAULT;
	o->fault_site = getenv("CRIU_LITE_FAULT");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(NULL);
		return argc < 2 ? -1 : 1;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("criu-lite %s (image format %u)\n", CRIU_LITE_VERSION, IMG_VERSION);
		return 1;
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
	while ((c = getopt_long(argc, argv, ":t:D:o:v::hdV", long_opts, NULL)) != -1) {
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
		case 'V':
			printf("criu-lite %s (image format %u)\n", CRIU_LITE_VERSION, IMG_VERSION);
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
			o->images_dir_given = true;
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
		case O_SNAPSHOT:
			o->snapshot = true;
			break;
		case O_TRACK:
			if (strcmp(optarg, "auto") && strcmp(optarg, "soft-dirty") &&
			    strcmp(optarg, "uffd-wp")) {
				fprintf(stderr,
					"criu-lite %s: --track %s: auto, soft-dirty or uffd-wp\n",
					s->name, optarg);
				return -1;
			}
			o->track = strcmp(optarg, "auto") ? optarg : NULL;
			break;
		case O_LAZY_TIMEOUT:
			if (parse_num(optarg, 1, 86400, &v)) {
				fprintf(stderr, "criu-lite %s: bad --lazy-timeout '%s' (seconds)\n",
					s->name, optarg);
				return -1;
			}
			o->lazy_timeout = (int)v;
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
		case O_STATS_FILE:
			o->stats_file = optarg;
			break;
		case O_OVERWRITE:
			o->overwrite = true;
			break;
		case O_EXTERNAL:
			if (cli_add_external(o, s->name, optarg))
				return -1;
			break;
		case O_INHERIT_FD:
			if (cli_add_inherit_fd(o, s->name, optarg))
				return -1;
			break;
		case O_AUTH_KEY:
			o->auth_key = optarg;
			break;
		case O_TCP_ESTABLISHED:
			o->tcp_established = true;
			break;
		case O_TCP_CLOSE:
			o->tcp_close = true;
			break;
		case O_JOIN_NS:
			if (strncmp(optarg, "net:", 4) || !optarg[4]) {
				fprintf(
				    stderr,
				    "criu-lite %s: --join-ns %s: only net:PATH is built (a "
				    "network namespace file, /proc/PID/ns/net or /run/netns/NAME)\n",
				    s->name, optarg);
				return -1;
			}
			o->join_ns_net = optarg + 4;
			break;
		case O_NETWORK_LOCK:
			if (!strcmp(optarg, "nftables")) {
				o->network_lock = NETLOCK_NFTABLES;
			} else if (!strcmp(optarg, "skip")) {
				o->network_lock = NETLOCK_SKIP;
			} else {
				fprintf(
				    stderr,
				    "criu-lite %s: --network-lock %s: nftables or skip (iptables "
				    "is not built)\n",
				    s->name, optarg);
				return -1;
			}
			break;
		case O_INSECURE:
			o->insecure = true;
			break;
		case O_RECONNECT_TIMEOUT:
			if (parse_num(optarg, 0, 3600, &v)) {
				fprintf(
				    stderr,
				    "criu-lite %s: bad --reconnect-timeout '%s' (seconds, 0-3600)\n",
				    s->name, optarg);
				return -1;
			}
			o->reconnect_timeout = (int)v;
			o->reconnect_given = true;
			break;
		case O_GHOST_LIMIT:
			if (parse_size(optarg, &o->ghost_limit)) {
				fprintf(stderr,
					"criu-lite %s: bad --ghost-limit '%s': expected a size in "
					"bytes, or with a K, M or G suffix\n",
					s->name, optarg);
				return -1;
			}
			break;
		}
	}
	if (o->lazy_timeout && !o->lazy_pages) {
		fprintf(stderr, "criu-lite %s: --lazy-timeout does nothing without --lazy-pages\n",
			s->name);
		return -1;
	}
	if (check_net(s->name, o) || check_track(s->name, o))
		return -1;
	if (o->nr_veth_external && o->join_ns_net) {
		fprintf(stderr,
			"criu-lite restore: --external veth[...] does nothing with --join-ns "
			"(the caller made the namespace and its links)\n");
		return -1;
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->nargs && strcmp(s->name, "show") != 0) {
		fprintf(stderr, "criu-lite %s: unexpected argument '%s'\n", s->name, o->args[0]);
		return -1;
	}
	return 0;
}

int cli_reconnect_s(const struct opts *o)
{
	return o->reconnect_given ? o->reconnect_timeout : CLI_RECONNECT_DEFAULT_S;
}
