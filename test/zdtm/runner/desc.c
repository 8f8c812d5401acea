/* desc: see desc.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "fs.h"
#include "needs.h"

#define ALL_FLAVORS (~0u)
#define MAX_TIMEOUT 3600

const char *expect_name(enum expect e)
{
	switch (e) {
	case EXPECT_FAIL:
		return "fail";
	case EXPECT_TIMEOUT:
		return "timeout";
	case EXPECT_SETUPFAIL:
		return "setupfail";
	case EXPECT_DUMPFAIL:
		return "dumpfail";
	default:
		return "pass";
	}
}

static int name_ok(const char *s)
{
	if (!*s || *s == '/' || strstr(s, "..") || s[strlen(s) - 1] == '/')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") ==
	       strlen(s);
}

static int parse_flavors(const char *s, unsigned *mask)
{
	char *copy, *tok, *save;
	int ret = 0;

	if (!strcmp(s, "all")) {
		*mask = ALL_FLAVORS;
		return 0;
	}
	*mask = 0;
	copy = strf("%s", s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct flavor *f = flavor_find(tok);

		if (!f) {
			ret = -EINVAL;
			break;
		}
		*mask |= 1u << flavor_index(f);
	}
	free(copy);
	return *mask || ret ? ret : -EINVAL;
}

/* opts=: a comma list of known words. */
static int parse_opts(const char *v, struct test_desc *d)
{
	char *copy = strf("%s", v), *save, *tok;
	int ret = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "leave-running")) {
			d->leave_running = true;
		} else if (!strcmp(tok, "restore-wait")) {
			d->restore_wait = true;
		} else if (!strcmp(tok, "tcp-established")) {
			d->tcp_established = true;
		} else {
			ret = -EINVAL;
			break;
		}
	}
	free(copy);
	return ret;
}

/* faults=, rfaults=: a comma list of site names (lower case, digits, '-', '_'). */
static int faults_ok(const char *v)
{
	const char *ok = "abcdefghijklmnopqrstuvwxyz0123456789-_,";

	return *v && *v != ',' && v[strlen(v) - 1] != ',' && !strstr(v, ",,") &&
	       strspn(v, ok) == strlen(v);
}

/* One "key=value"; 0 or -EINVAL with why filled. */
static int parse_option(const char *opt, struct test_desc *d, char *why, size_t len)
{
	const char *v = strchr(opt, '=');
	char *end;

	if (!v) {
		snprintf(why, len, "'%s' is not key=value", opt);
		return -EINVAL;
	}
	v++;
	if (!strncmp(opt, "expect=", 7)) {
		for (enum expect e = EXPECT_PASS; e <= EXPECT_DUMPFAIL; e++) {
			if (!strcmp(v, expect_name(e))) {
				d->expect = e;
				return 0;
			}
		}
		snprintf(why, len, "expect=%s: not pass, fail, timeout, setupfail or dumpfail", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "timeout=", 8)) {
		long t = strtol(v, &end, 10);

		if (*v && !*end && t > 0 && t <= MAX_TIMEOUT) {
			d->timeout = (int)t;
			return 0;
		}
		snprintf(why, len, "timeout=%s: not 1..%d seconds", v, MAX_TIMEOUT);
		return -EINVAL;
	}
	if (!strncmp(opt, "needs=", 6)) {
		char known[128];

		if (!needs_parse(v, &d->needs))
			return 0;
		needs_names(~0u, known, sizeof(known));
		snprintf(why, len, "needs=%s: known needs are %s", v, known);
		return -EINVAL;
	}
	if (!strncmp(opt, "external=", 9)) {
		char *copy = strf("%s", v), *save, *tok;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (d->nr_external == DESC_EXTERNAL_MAX || !*tok) {
				snprintf(why, len, "external=%s: at most %d keys", v,
					 DESC_EXTERNAL_MAX);
				free(copy);
				return -EINVAL;
			}
			d->external[d->nr_external++] = strf("%s", tok);
		}
		free(copy);
		return 0;
	}
	if (!strncmp(opt, "opts=", 5)) {
		if (!parse_opts(v, d))
			return 0;
		snprintf(why, len,
			 "opts=%s: known opts are leave-running, restore-wait, tcp-established", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "faults=", 7)) {
		if (faults_ok(v) && !d->faults) {
			d->faults = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "faults=%s: not one comma list of site names [a-z0-9_-]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "lazy=", 5)) {
		static const char *const modes[] = { "prefetch", "faults", "kill", "stall" };

		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!strcmp(v, modes[i])) {
				d->lazy = (enum lazy_mode)i;
				return 0;
			}
		snprintf(why, len, "lazy=%s: not prefetch, faults, kill or stall", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "prestats=", 9)) {
		if (faults_ok(v) && !d->prestats) {
			d->prestats = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "prestats=%s: not one comma list of keys [a-z0-9_]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "lazystats=", 10)) {
		if (faults_ok(v) && !d->lazystats) {
			d->lazystats = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "lazystats=%s: not one comma list of keys [a-z0-9_]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "rkills=", 7)) {
		if (faults_ok(v) && !d->rkills) {
			d->rkills = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "rkills=%s: not one comma list of site names [a-z0-9_-]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "rkillrand=", 10)) {
		long n = strtol(v, &end, 10);

		if (*v && !*end && n > 0 && n <= 1000) {
			d->rkillrand = (int)n;
			return 0;
		}
		snprintf(why, len, "rkillrand=%s: not a count from 1 to 1000", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "kills=", 6)) {
		if (faults_ok(v) && !d->kills) {
			d->kills = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "kills=%s: not one comma list of site names [a-z0-9_-]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "killrand=", 9)) {
		long n = strtol(v, &end, 10);

		if (*v && !*end && n > 0 && n <= 1000) {
			d->killrand = (int)n;
			return 0;
		}
		snprintf(why, len, "killrand=%s: not a count from 1 to 1000", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "rfaults=", 8)) {
		if (faults_ok(v) && !d->rfaults) {
			d->rfaults = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "rfaults=%s: not one comma list of site names [a-z0-9_-]", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "corrupt=", 8)) {
		if (!strcmp(v, "0") || !strcmp(v, "1")) {
			d->corrupt = v[0] == '1';
			return 0;
		}
		snprintf(why, len, "corrupt=%s: not 0 or 1", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "exit=", 5)) {
		long c = strtol(v, &end, 10);

		if (*v && !*end && c >= 0 && c <= 255) {
			d->exit_code = (int)c;
			return 0;
		}
		snprintf(why, len, "exit=%s: not an exit status 0..255", v);
		return -EINVAL;
	}
	if (!strncmp(opt, "dumpmsg=", 8)) {
		if (*v && !d->dumpmsg) {
			d->dumpmsg = strf("%s", v);
			return 0;
		}
		snprintf(why, len, "dumpmsg=%s: empty or given twice", v);
		return -EINVAL;
	}
	snprintf(
	    why, len,
	    "unknown option '%s' (expect=, timeout=, needs=, opts=, external=, faults=, rfaults=, "
	    "kills=, killrand=, rkills=, rkillrand=, corrupt=, exit=, dumpmsg=)",
	    opt);
	return -EINVAL;
}

/* 1: a test was parsed into d; 0: blank line; -EINVAL: why is filled. */
static int parse_line(char *line, const struct desc_table *tab, struct test_desc *d, char *why,
		      size_t len)
{
	char *save, *tok;

	line[strcspn(line, "#\n")] = '\0';
	tok = strtok_r(line, " \t", &save);
	if (!tok)
		return 0;
	if (!name_ok(tok)) {
		snprintf(why, len, "bad test name '%s'", tok);
		return -EINVAL;
	}
	for (size_t i = 0; i < tab->n; i++) {
		if (!strcmp(tab->tests[i].name, tok)) {
			snprintf(why, len, "%s is listed twice", tok);
			return -EINVAL;
		}
	}
	memset(d, 0, sizeof(*d));
	d->name = tok;
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || parse_flavors(tok, &d->flavors)) {
		snprintf(why, len, "%s: flavors '%s' are not 'all' or a list of known flavors",
			 d->name, tok ? tok : "");
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (parse_option(tok, d, why, len)) {
			free(d->faults);
			free(d->rfaults);
			free(d->kills);
			free(d->rkills);
			free(d->dumpmsg);
			free(d->lazystats);
			free(d->prestats);
			d->faults = d->rfaults = d->kills = d->rkills = d->dumpmsg = NULL;
			d->lazystats = d->prestats = NULL;
			return -EINVAL;
		}
	}
	d->name = strf("%s", d->name);
	return 1;
}

int desc_load(const char *path, struct desc_table *tab)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = 0;

	memset(tab, 0, sizeof(*tab));
	if (!f) {
		ret = -errno;
		zperror("can't open the test table %s", path);
		return ret;
	}
	while (getline(&line, &cap, f) >= 0) {
		struct test_desc d;
		char why[256];
		int r;

		lineno++;
		r = parse_line(line, tab, &d, why, sizeof(why));
		if (r < 0) {
			zerr("%s:%u: %s", path, lineno, why);
			ret = r;
			break;
		}
		if (r == 0)
			continue;
		struct test_desc *grown = realloc(tab->tests, (tab->n + 1) * sizeof(*grown));

		if (!grown) {
			zerr("out of memory reading %s", path);
			free(d.name);
			free(d.faults);
			free(d.rfaults);
			free(d.kills);
			free(d.rkills);
			free(d.dumpmsg);
			ret = -ENOMEM;
			break;
		}
		tab->tests = grown;
		tab->tests[tab->n++] = d;
	}
	free(line);
	fclose(f);
	if (ret)
		desc_free(tab);
	return ret;
}

void desc_free(struct desc_table *tab)
{
	for (size_t i = 0; i < tab->n; i++) {
		free(tab->tests[i].name);
		free(tab->tests[i].faults);
		free(tab->tests[i].rfaults);
		free(tab->tests[i].kills);
		free(tab->tests[i].rkills);
		free(tab->tests[i].dumpmsg);
	}
	free(tab->tests);
	memset(tab, 0, sizeof(*tab));
}

const struct test_desc *desc_find(const struct desc_table *tab, const char *name)
{
	for (size_t i = 0; i < tab->n; i++) {
		if (!strcmp(tab->tests[i].name, name))
			return &tab->tests[i];
	}
	if (strchr(name, '/'))
		return NULL;
	for (size_t i = 0; i < tab->n; i++) {
		const char *base = strrchr(tab->tests[i].name, '/');

		if (base && !strcmp(base + 1, name))
			return &tab->tests[i];
	}
	return NULL;
}

int desc_criu_args(const struct test_desc *d, char **argv, int n, bool dump)
{
	if (d->tcp_established)
		argv[n++] = "--tcp-established";
	for (int i = 0; dump && i < d->nr_external; i++) {
		argv[n++] = "--external";
		argv[n++] = d->external[i];
	}
	argv[n] = NULL;
	return n;
}

int desc_default(struct test_desc *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	if (!name_ok(name))
		return -EINVAL;
	d->name = strchr(name, '/') ? strf("%s", name) : strf("static/%s", name);
	d->flavors = ALL_FLAVORS;
	return 0;
}

void desc_fini(struct test_desc *d)
{
	free(d->name);
	free(d->faults);
	free(d->rfaults);
	free(d->kills);
	free(d->rkills);
	free(d->dumpmsg);
	free(d->lazystats);
	for (int i = 0; i < d->nr_external; i++)
		free(d->external[i]);
	d->nr_external = 0;
	d->name = NULL;
	d->faults = d->rfaults = d->kills = d->rkills = d->dumpmsg = d->lazystats = NULL;
}
