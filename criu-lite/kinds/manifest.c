/* manifest: see manifest.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu-lite/kinds/manifest.h"

static const ManifestEntry *listed(const InventoryEntry *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (!strcmp(inv->files[i]->name, name))
			return inv->files[i];
	return NULL;
}

/* Every image file of the directory is in the manifest: how many are not, or -errno. */
static int extra_files(struct img_dir *d, const InventoryEntry *inv,
		       void (*problem)(void *arg, const char *msg), void *arg)
{
	int dfd = openat(img_dir_fd(d), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	char msg[640];

	if (!dir) {
		int e = errno;

		if (dfd >= 0)
			close(dfd);
		snprintf(msg, sizeof(msg), "%s: can't list it: %s", img_dir_path(d), strerror(e));
		problem(arg, msg);
		return -e;
	}
	while ((de = readdir(dir))) {
		if (!img_is_image_name(de->d_name) || !strcmp(de->d_name, "inventory.img") ||
		    listed(inv, de->d_name))
			continue;
		snprintf(msg, sizeof(msg),
			 "%s/%s is not part of this dump (inventory.img does not list it)",
			 img_dir_path(d), de->d_name);
		problem(arg, msg);
		n++;
	}
	closedir(dir);
	return n;
}

int manifest_verify(struct img_dir *d, const InventoryEntry *inv, enum manifest_pages pages,
		    void (*problem)(void *arg, const char *msg), void *arg)
{
	struct img_err err = { 0 };
	char msg[640];
	int n = extra_files(d, inv, problem, arg);

	if (n < 0)
		return n;
	for (size_t i = 0; i < inv->n_files; i++) {
		const ManifestEntry *f = inv->files[i];
		uint64_t size;
		uint32_t crc;
		struct stat st;

		if (!img_is_image_name(f->name) || strchr(f->name, '/')) {
			snprintf(msg, sizeof(msg),
				 "inventory.img: manifest entry %zu: bad name \"%s\"", i, f->name);
			problem(arg, msg);
			n++;
			continue;
		}
		if (pages == MANIFEST_PAGES_ELSEWHERE && !strncmp(f->name, "pages-", 6))
			continue;
		if (pages == MANIFEST_PAGES_SIZE && !strncmp(f->name, "pages-", 6)) {
			if (fstatat(img_dir_fd(d), f->name, &st, 0)) {
				snprintf(msg, sizeof(msg), "%s (part of this dump): %s", f->name,
					 strerror(errno));
				problem(arg, msg);
				n++;
				continue;
			}
			size = (uint64_t)st.st_size;
			crc = f->crc32c;
		} else if (img_file_crc(d, f->name, &size, &crc, &err)) {
			snprintf(msg, sizeof(msg), "%s (part of this dump, inventory.img lists it)",
				 err.msg);
			problem(arg, msg);
			n++;
			continue;
		}
		if (size != f->size || crc != f->crc32c) {
			snprintf(
			    msg, sizeof(msg),
			    "%s is not the file this dump wrote: %llu bytes, crc32c %08x; "
			    "inventory.img says %llu bytes, crc32c %08x (changed, swapped or left "
			    "from another dump)",
			    f->name, (unsigned long long)size, crc, (unsigned long long)f->size,
			    f->crc32c);
			problem(arg, msg);
			n++;
		}
	}
	return n;
}
