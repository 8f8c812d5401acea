/* kerndat-cache: see kerndat_get() in kerndat.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include "criu-lite/log.h"
#include "criu-lite/kerndat/kerndat-int.h"
#include "images/img.h"

#define CACHE_DIR     "/run/criu-lite"
#define CACHE_FILE    CACHE_DIR "/kerndat"
#define CACHE_MAGIC   0x4b44434cu /* "KDCL" */
#define CACHE_VERSION 2
#define CACHED_GROUPS (KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_UFFD | KD_PROBE_VDSO)

/* What must match for the file to be this kernel's, this boot's and this build's. */
struct key {
	uint32_t magic, version, size; /* size: of struct kerndat in this build */
	uint32_t euid;
	uint64_t
	    exe[4]; /* this binary: device, inode, size, mtime (ns): another build probes anew */
	char boot_id[40];
	char release[65], kversion[65];
};

struct cache_file {
	struct key key;
	struct kerndat kd;
	uint32_t crc; /* crc32c of everything before it */
};

static int make_key(struct key *k)
{
	struct utsname u;
	struct stat st;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	memset(k, 0, sizeof(*k));
	if (fd >= 0) {
		n = pread(fd, k->boot_id, sizeof(k->boot_id) - 1, 0);
		close(fd);
	}
	if (n < 32 || uname(&u) || stat("/proc/self/exe", &st))
		return -ENOENT;
	k->exe[0] = st.st_dev;
	k->exe[1] = st.st_ino;
	k->exe[2] = (uint64_t)st.st_size;
	k->exe[3] = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	k->boot_id[n] = '\0';
	k->magic = CACHE_MAGIC;
	k->version = CACHE_VERSION;
	k->size = sizeof(struct kerndat);
	k->euid = (uint32_t)geteuid();
	snprintf(k->release, sizeof(k->release), "%s", u.release);
	snprintf(k->kversion, sizeof(k->kversion), "%s", u.version);
	return 0;
}

/* The cache file, or NULL: CRIU_LITE_KERNDAT_CACHE=0 turns it off, =/ABSOLUTE/PATH moves it
 * (tests; its directory must exist). */
static const char *cache_path(void)
{
	const char *e = getenv("CRIU_LITE_KERNDAT_CACHE");

	if (e && !strcmp(e, "0"))
		return NULL;
	if (e && e[0] == '/')
		return e;
	if (mkdir(CACHE_DIR, 0700) && errno != EEXIST)
		return NULL;
	return CACHE_FILE;
}

/* The cached results (of every CACHED_GROUPS), if the file is good and of this kernel and boot. */
static bool load(const char *path, struct kerndat *kd, const struct key *k)
{
	struct cache_file f;
	struct kd_vdso_layout here;
	struct stat st;
	char why[96];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool ok;

	if (fd < 0)
		return false;
	ok = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	     !(st.st_mode & 022) && read(fd, &f, sizeof(f)) == (ssize_t)sizeof(f);
	close(fd);
	if (!ok || memcmp(&f.key, k, sizeof(*k)) ||
	    f.crc != img_crc32c(0, &f, offsetof(struct cache_file, crc))) {
		pr_debug("%s is not this kernel's or this build's: probing\n", path);
		return false;
	}
	/* the vDSO block's place is this process's own; its layout must be the cached one */
	if (kd_vdso_here(&here, why, sizeof(why)) || here.nr_parts != f.kd.vdso.nr_parts ||
	    memcmp(here.part, f.kd.vdso.part, sizeof(here.part))) {
		pr_debug("the vDSO here is not the cached one: probing\n");
		return false;
	}
	f.kd.vdso = here;
	*kd = f.kd;
	return true;
}

static void save(const char *path, const struct kerndat *kd, const struct key *k)
{
	struct cache_file f;
	char tmp[4200];
	int fd;

	memset(&f, 0, sizeof(f));
	f.key = *k;
	f.kd = *kd;
	f.crc = img_crc32c(0, &f, offsetof(struct cache_file, crc));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	if (write(fd, &f, sizeof(f)) != (ssize_t)sizeof(f) || close(fd) || rename(tmp, path))
		unlink(tmp);
}

int kerndat_get(struct kerndat *kd, unsigned int flags, bool fresh)
{
	const char *path = flags & ~CACHED_GROUPS ? NULL : cache_path();
	struct key k;
	int ret;

	if (!path || make_key(&k))
		return kerndat_probe(kd, flags);
	if (!fresh && load(path, kd, &k)) {
		pr_debug("kernel features from %s\n", path);
		return 0;
	}
	/* every cached group, so that any later run finds what it asks */
	ret = kerndat_probe(kd, CACHED_GROUPS);
	if (!ret)
		save(path, kd, &k);
	return ret;
}
