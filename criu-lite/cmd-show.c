/* show: print image files or whole image directories as JSON (like CRIU's crit). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "criu-lite/cli.h"
#include "criu-lite/kinds/manifest.h"
#include "criu-lite/log.h"
#include "images/json.h"

static void add_problem(void *arg, const char *msg)
{
	json_object_array_add(arg, json_object_new_string(msg));
}

/* "complete": whether the directory holds one whole dump (its inventory.img and exactly the
 * files its manifest lists, sizes and crc32c included); "problems": what is wrong if not. The
 * same is said on stderr, so that a user reading the JSON by eye is told too. */
static int add_set_state(const char *path, struct json_object *j)
{
	struct json_object *problems = json_object_new_array();
	InventoryEntry *inv = NULL;
	struct img_err err = { 0 };
	struct img_dir *d;
	int n = 0;

	if (img_dir_open(path, false, &d, &err)) {
		pr_err("show: %s\n", err.msg);
		json_object_put(problems);
		return 1;
	}
	if (img_read_one(d, IMG_INVENTORY, 0, (ProtobufCMessage **)&inv, &err)) {
		add_problem(problems, errno == ENOENT || err.code == ENOENT
					  ? "no inventory.img: the dump did not finish"
					  : err.msg);
		n = 1;
	} else if (!inv->has_dump_id) {
		add_problem(problems, "inventory.img has no manifest (an older criu-lite)");
	} else {
		n = manifest_verify(d, inv, MANIFEST_PAGES_SUM, add_problem, problems);
	}
	if (inv)
		inventory_entry__free_unpacked(inv, NULL);
	img_dir_close(d);
	json_object_object_add(j, "complete", json_object_new_boolean(n == 0));
	json_object_object_add(j, "problems", problems);
	if (n)
		pr_warn("show: %s is not a complete dump: %s\n", path,
			json_object_get_string(json_object_array_get_idx(problems, 0)));
	return 0;
}

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
		if (S_ISDIR(st.st_mode)) {
			ret = img_dir_to_json(paths[i], &j, &err);
			if (!ret)
				ret = add_set_state(paths[i], j);
		} else
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
