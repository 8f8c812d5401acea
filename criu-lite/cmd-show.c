/* show: print image files or whole image directories as JSON (like CRIU's crit). */
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "criu-lite/cli.h"
#include "criu-lite/log.h"
#include "images/json.h"

int cmd_show(const struct opts *o)
{
	const char *const dflt[] = { o->images_dir };
	const char *const *paths = o->nargs ? (const char *const *)o->args : dflt;
	int n = o->nargs ? o->nargs : 1;
	struct json_object *all;
	struct img_err err = { 0 };
	int ret = 0;

	if (!o->nargs && !o->images_dir_given) {
		pr_err("show: name an image directory or file (criu-lite show DIR|FILE..., or -D "
		       "DIR)\n");
		return 2;
	}
	all = n > 1 ? json_object_new_array() : NULL;

	for (int i = 0; i < n && !ret; i++) {
		struct json_object *j;
		struct stat st;

		if (stat(paths[i], &st)) {
			pr_perror("show: can't stat %s", paths[i]);
			ret = 1;
			break;
		}
		if (S_ISDIR(st.st_mode))
			ret = img_dir_to_json(paths[i], &j, &err);
		else
			ret = img_file_to_json(paths[i], &j, &err);
		if (ret) {
			pr_err("show: %s\n", err.msg);
			ret = 1;
			break;
		}
		if (all)
			json_object_array_add(all, j);
		else
			all = j;
	}
	if (!ret)
		printf("%s\n", json_object_to_json_string_ext(
				   all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(all);
	return ret;
}
