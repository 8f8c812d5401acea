/* working-set: see working-set.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"
#include "lazy-pages/working-set.h"

#define WS_MAGIC   0x53574c43u /* "CLWS" */
#define WS_VERSION 1u

struct ws_head {
	uint32_t magic, version, count, crc;
};

int lazy_ws_add(struct lazy_ws *ws, uint32_t id, uint64_t addr)
{
	if (ws->n >= LAZY_WS_MAX)
		return 0;
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 4096;
		struct lazy_ws_entry *v = realloc(ws->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ws->v = v;
		ws->cap = cap;
	}
	ws->v[ws->n++] = (struct lazy_ws_entry){ .id = id, .addr = addr };
	return 0;
}

int lazy_ws_load(int dirfd, struct lazy_ws *ws)
{
	struct ws_head h;
	struct stat st;
	int fd = openat(dirfd, LAZY_WS_FILE, O_RDONLY | O_CLOEXEC), ret = 0;

	*ws = (struct lazy_ws){ 0 };
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || read(fd, &h, sizeof(h)) != sizeof(h) || h.magic != WS_MAGIC ||
	    h.version != WS_VERSION || h.count > LAZY_WS_MAX ||
	    (uint64_t)st.st_size != sizeof(h) + (uint64_t)h.count * sizeof(struct lazy_ws_entry)) {
		close(fd);
		return -EBADMSG;
	}
	ws->v = malloc(((size_t)h.count + 1) * sizeof(*ws->v));
	if (!ws->v) {
		close(fd);
		return -ENOMEM;
	}
	if (read(fd, ws->v, h.count * sizeof(*ws->v)) != (ssize_t)(h.count * sizeof(*ws->v)) ||
	    img_crc32c(0, ws->v, h.count * sizeof(*ws->v)) != h.crc)
		ret = -EBADMSG;
	close(fd);
	if (ret) {
		lazy_ws_free(ws);
		return ret;
	}
	ws->n = ws->cap = h.count;
	return 0;
}

int lazy_ws_save(int dirfd, const struct lazy_ws *ws)
{
	struct ws_head h = { WS_MAGIC, WS_VERSION, (uint32_t)ws->n,
			     img_crc32c(0, ws->v, ws->n * sizeof(*ws->v)) };
	const char *tmp = LAZY_WS_FILE ".tmp";
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, &h, sizeof(h)) != sizeof(h) ||
	    write(fd, ws->v, ws->n * sizeof(*ws->v)) != (ssize_t)(ws->n * sizeof(*ws->v)))
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, LAZY_WS_FILE))
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

size_t lazy_ws_for(const struct lazy_ws *ws, uint32_t id, uint64_t **out)
{
	size_t n = 0;

	*out = malloc((ws->n + 1) * sizeof(**out));
	for (size_t i = 0; *out && i < ws->n; i++)
		if (ws->v[i].id == id)
			(*out)[n++] = ws->v[i].addr;
	return n;
}

void lazy_ws_free(struct lazy_ws *ws)
{
	free(ws->v);
	*ws = (struct lazy_ws){ 0 };
}
