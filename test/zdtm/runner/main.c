/* zdtm: the runner of the zdtm suite (see test/zdtm/README.md).
 *
 *   zdtm run [--all | TEST...] [-f FLAVOR[,FLAVOR]] [--timeout SEC] [--keep-going]
 *            [--criu PATH] [--unit "BIN BIN..."] [--cmd NAME=COMMAND]... [--out DIR]
 *            [--desc FILE]
 *   zdtm list [--desc FILE]
 *
 * The last line of "run" is "N passed, N failed, N skipped", after a "failed: LABEL ..." line
 * when anything failed (a CI log cut in the middle still names every failure); the exit code
 * is 1 if anything failed, 2 on bad usage, else 0. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "fs.h"
#include "needs.h"
#include "proc.h"
#include "report.h"
#include "testrun.h"
#include "unit.h"
#include "cmdtest.h"
#include "hosts.h"

#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_FLAVORS	  "h"

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: zdtm run [--all | TEST...] [-f FLAVOR[,FLAVOR]] [--timeout SEC]\n"
	       "                [--keep-going] [--criu PATH] [--unit \"BIN BIN...\"] [--out DIR]\n"
	       "                [--cmd NAME=COMMAND]... [--desc FILE]\n"
	       "       zdtm list [--desc FILE]\n"
	       "TEST is static/NAME or NAME. Flavors: -f, else $ZDTM_FLAVORS, else " DEFAULT_FLAVORS
	       ".\n");
	for (int i = 0; flavor_at(i); i++)
		fprintf(f, "  %-6s %s\n", flavor_at(i)->name, flavor_at(i)->help);
}

/* The source tree, from where the runner lives: ROOT/build/zdtm/zdtm. */
static char *find_root(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *root;

	if (n < 0) {
		zperror("readlink /proc/self/exe");
		return NULL;
	}
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash || slash == exe) {
			zerr("%s is not ROOT/build/zdtm/zdtm: can't find the source tree", exe);
			return NULL;
		}
		*slash = '\0';
	}
	root = strf("%s", exe);
	return root;
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strf("%s", path);
	return strf("%s/%s", cwd, path);
}

static int add_flavors(struct zdtm_opts *o, const char *list)
{
	char *copy = strf("%s", list), *save, *tok;
	int ret = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		const struct flavor *f = flavor_find(tok);

		if (!f) {
			zerr("unknown flavor '%s' (zdtm run --help lists them)", tok);
			ret = -1;
			break;
		}
		if (o->nflavors == ZDTM_MAX_FLAVORS) {
			zerr("too many flavors");
			ret = -1;
			break;
		}
		o->flavors[o->nflavors++] = f;
	}
	free(copy);
	return ret;
}

/* 0: options parsed; 1: help printed; -1: bad usage (said why). */
static int parse_run(int argc, char **argv, struct zdtm_opts *o)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "flavor", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "criu", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "cmd", required_argument, NULL, 'C' },
		{ "out", required_argument, NULL, 'o' },
		{ "desc", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "af:t:kc:u:o:d:h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'a':
			o->all = true;
			break;
		case 'f':
			if (add_flavors(o, optarg))
				return -1;
			break;
		case 't':
			o->timeout = (int)strtol(optarg, &end, 10);
			if (*end || o->timeout <= 0 || o->timeout > 3600) {
				zerr("--timeout %s: not 1..3600 seconds", optarg);
				return -1;
			}
			break;
		case 'k':
			o->keep_going = true;
			break;
		case 'c':
			free(o->criu);
			o->criu = absolute(optarg);
			break;
		case 'u':
			o->unit = optarg;
			break;
		case 'C': {
			const char **nc = realloc(o->cmds, (size_t)(o->ncmds + 1) * sizeof(*nc));

			if (!nc) {
				zerr("out of memory");
				return -1;
			}
			o->cmds = nc; /* main() frees it */
			if (!cmdtest_valid(optarg)) {
				zerr("--cmd %s: want NAME=COMMAND", optarg);
				return -1;
			}
			o->cmds[o->ncmds++] = optarg;
			break;
		}
		case 'o':
			free(o->out_dir);
			o->out_dir = absolute(optarg);
			break;
		case 'd':
			free(o->desc_path);
			o->desc_path = absolute(optarg);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	o->tests = argv + optind;
	o->ntests = argc - optind;
	if (o->all && o->ntests) {
		zerr("--all and test names exclude each other");
		return -1;
	}
	if (!o->all && !o->ntests && !o->unit && !o->ncmds) {
		zerr("nothing to run: give --all, test names, --unit or --cmd");
		return -1;
	}
	if (!o->nflavors) {
		const char *env = getenv("ZDTM_FLAVORS");

		if (add_flavors(o, env && *env ? env : DEFAULT_FLAVORS))
			return -1;
	}
	return 0;
}

static bool supports(const struct test_desc *d, const struct flavor *f)
{
	return d->flavors & (1u << flavor_index(f));
}

static void say_stopped(void)
{
	printf("stopped at the first failure (--keep-going runs the rest)\n");
}

/* Each test under each flavor; false if it stopped at a failure. */
static bool run_tests(const struct zdtm_opts *o, const struct test_desc *const *sel, size_t n,
		      struct totals *tot)
{
	for (int i = 0; i < o->nflavors; i++) {
		const struct flavor *f = o->flavors[i];

		for (size_t k = 0; k < n; k++) {
			enum result r;

			if (!supports(sel[k], f)) {
				if (o->all)
					continue; /* the table says where it runs */
				char *label = strf("%s/%s", f->name, sel[k]->name);
				char *why =
				    strf("tests.desc does not list flavor %s for it", f->name);

				report_line(RES_SKIP, label, 0, why);
				free(label);
				free(why);
				totals_add(tot, RES_SKIP, NULL);
				continue;
			}
			r = run_one(o, sel[k], f);
			char *label = strf("%s/%s", f->name, sel[k]->name);

			totals_add(tot, r, label);
			free(label);
			if (r == RES_FAIL && !o->keep_going) {
				if (k + 1 < n || i + 1 < o->nflavors)
					say_stopped();
				return false;
			}
		}
	}
	return true;
}

/* The unit binaries; false if it stopped at a failure (more_follows: tests
 * would run after them). */
static bool run_units(const struct zdtm_opts *o, bool more_follows, struct totals *tot)
{
	char *copy = strf("%s", o->unit ? o->unit : ""), *save, *bin;
	bool go_on = true;

	bin = strtok_r(copy, " \t\n", &save);
	while (bin) {
		bool ok = unit_run(o, bin, tot);

		bin = strtok_r(NULL, " \t\n", &save);
		if (!ok && !o->keep_going) {
			if (bin || more_follows)
				say_stopped();
			go_on = false;
			break;
		}
	}
	free(copy);
	return go_on;
}

/* The --cmd tests, after everything else; false if it stopped at a failure. */
static bool run_cmds(const struct zdtm_opts *o, struct totals *tot)
{
	for (int i = 0; i < o->ncmds; i++) {
		if (!cmdtest_run(o, o->cmds[i], tot) && !o->keep_going) {
			if (i + 1 < o->ncmds)
				say_stopped();
			return false;
		}
	}
	return true;
}

static int cmd_run(struct zdtm_opts *o)
{
	const struct test_desc **sel = NULL;
	struct test_desc *own = NULL; /* command-line tests absent from the table */
	struct desc_table tab;
	struct totals tot = { 0 };
	size_t n = 0;
	int ret = 2;

	if (become_subreaper() || desc_load(o->desc_path, &tab))
		return 2;
	hosts_reap_stale(); /* of runners that were killed */
	sel = calloc(o->all ? tab.n + 1 : (size_t)o->ntests + 1, sizeof(*sel));
	own = calloc((size_t)o->ntests + 1, sizeof(*own));
	if (!sel || !own) {
		zerr("out of memory");
		goto out;
	}
	for (size_t i = 0; o->all && i < tab.n; i++)
		sel[n++] = &tab.tests[i];
	for (int i = 0; i < o->ntests; i++) {
		sel[n] = desc_find(&tab, o->tests[i]);
		if (!sel[n]) {
			if (desc_default(&own[i], o->tests[i])) {
				zerr("bad test name '%s'", o->tests[i]);
				goto out;
			}
			sel[n] = &own[i];
		}
		n++;
	}

	printf("zdtm: %zu test(s)", n);
	for (int i = 0; n && i < o->nflavors; i++)
		printf("%s%s", i ? "," : " under ", o->flavors[i]->name);
	printf("; what failed stays in %s\n", o->out_dir);

	if (run_units(o, n > 0 || o->ncmds, &tot) && run_tests(o, sel, n, &tot))
		run_cmds(o, &tot);
	prune_empty_dirs(o->out_dir);
	totals_print_failed(&tot);
	printf("%u passed, %u failed, %u skipped\n", tot.passed, tot.failed, tot.skipped);
	ret = tot.failed ? 1 : 0;
out:
	for (int i = 0; own && i < o->ntests; i++)
		desc_fini(&own[i]);
	free(own);
	free(sel);
	desc_free(&tab);
	return ret;
}

static int cmd_list(const struct zdtm_opts *o)
{
	struct desc_table tab;

	if (desc_load(o->desc_path, &tab))
		return 2;
	for (size_t i = 0; i < tab.n; i++) {
		const struct test_desc *d = &tab.tests[i];
		char opts[64];

		printf("%-28s", d->name);
		for (int k = 0, first = 1; flavor_at(k); k++) {
			if (supports(d, flavor_at(k))) {
				printf("%s%s", first ? "" : ",", flavor_at(k)->name);
				first = 0;
			}
		}
		if (d->expect != EXPECT_PASS)
			printf("  expect=%s", expect_name(d->expect));
		if (d->timeout)
			printf("  timeout=%d", d->timeout);
		if (d->needs) {
			char names[128];

			needs_names(d->needs, names, sizeof(names));
			printf("  needs=%s", names);
		}
		opts[0] = '\0';
		if (d->leave_running)
			strcat(opts, ",leave-running");
		if (d->restore_wait)
			strcat(opts, ",restore-wait");
		if (d->tcp_established)
			strcat(opts, ",tcp-established");
		if (opts[0])
			printf("  opts=%s", opts + 1);
		if (d->faults)
			printf("  faults=%s", d->faults);
		if (d->rfaults)
			printf("  rfaults=%s", d->rfaults);
		if (d->corrupt)
			printf("  corrupt=1");
		if (d->exit_code)
			printf("  exit=%d", d->exit_code);
		if (d->dumpmsg)
			printf("  dumpmsg=%s", d->dumpmsg);
		printf("\n");
	}
	desc_free(&tab);
	return 0;
}

int main(int argc, char **argv)
{
	struct zdtm_opts o = { .timeout = DEFAULT_TIMEOUT_S };
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	o.root = find_root();
	if (!o.root)
		return 2;
	o.criu = strf("%s/criu-lite/criu-lite", o.root);
	o.out_dir = strf("%s/test/zdtm/out", o.root);
	o.desc_path = strf("%s/test/zdtm/tests.desc", o.root);

	if (!strcmp(argv[1], "run")) {
		int r = parse_run(argc - 1, argv + 1, &o);

		ret = r ? (r > 0 ? 0 : 2) : cmd_run(&o);
	} else if (!strcmp(argv[1], "list")) {
		if (argc == 4 && !strcmp(argv[2], "--desc")) {
			free(o.desc_path);
			o.desc_path = absolute(argv[3]);
		} else if (argc != 2) {
			zerr("usage: zdtm list [--desc FILE]");
			return 2;
		}
		ret = cmd_list(&o);
	} else {
		zerr("unknown command '%s'", argv[1]);
		usage(stderr);
	}
	free(o.root);
	free(o.criu);
	free(o.out_dir);
	free(o.desc_path);
	free(o.cmds);
	return ret;
}
