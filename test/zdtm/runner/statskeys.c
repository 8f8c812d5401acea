/* statskeys: see statskeys.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zdtm.h"
#include "fs.h"
#include "statskeys.h"
#include "testrun.h"

int stats_keys_positive(struct test_run *t, const char *file, const char *keys)
{
	char *path = strf("%s/%s", t->dir, file), *copy, *key, *save;
	size_t len;
	char *json = read_file(path, &len);
	int ret = 0;

	if (!json) {
		run_why(t, "the command exited 0 but wrote no %s", path);
		free(path);
		return -ENOENT;
	}
	copy = keys ? strf("%s", keys) : NULL;
	for (key = copy ? strtok_r(copy, ",", &save) : NULL; key && !ret;
	     key = strtok_r(NULL, ",", &save)) {
		char *q = strf("\"%s\": ", key), *at = strstr(json, q);

		if (!at || strtod(at + strlen(q), NULL) <= 0) {
			run_why(t, "%s: %s is %s, expected more than 0", file, key,
				at ? "0" : "missing");
			ret = -ECANCELED;
		}
		free(q);
	}
	free(copy);
	free(json);
	free(path);
	return ret;
}

long stats_key(struct test_run *t, const char *file, const char *key)
{
	char *path = strf("%s/%s", t->dir, file), *q = strf("\"%s\": ", key), *at;
	size_t len;
	char *json = read_file(path, &len);
	long v = -1;

	if (json && (at = strstr(json, q)))
		v = strtol(at + strlen(q), NULL, 10);
	free(json);
	free(q);
	free(path);
	return v;
}
