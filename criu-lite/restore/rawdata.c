/* rawdata: see rawdata.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/log.h"
#include "criu-lite/restore/rawdata.h"

int rawdata_load(struct img_dir *d, const char *name, const char *what, uint32_t len, uint32_t crc,
		 char **out)
{
	char *data = NULL;
	size_t done = 0;
	struct stat st;
	uint32_t got;
	int fd, ret = 0;

	fd = openat(img_dir_fd(d), name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		pr_perror("%s: can't open %s/%s", what, img_dir_path(d), name);
		goto out;
	}
	if ((uint64_t)st.st_size != len) {
		pr_err("%s/%s: %lld bytes, files.img says %u: the image is damaged\n",
		       img_dir_path(d), name, (long long)st.st_size, len);
		ret = -EBADMSG;
		goto out;
	}
	data = malloc((size_t)len + 1);
	if (!data) {
		pr_err("%s: out of memory for its %u bytes of data\n", what, len);
		ret = -ENOMEM;
		goto out;
	}
	while (done < len) {
		ssize_t n = read(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EBADMSG;
			pr_err("can't read %s/%s: %s\n", img_dir_path(d), name,
			       n < 0 ? strerror(-ret) : "it ended early");
			goto out;
		}
		done += (size_t)n;
	}
	got = img_crc32c(0, data, len);
	if (got != crc) {
		pr_err("%s/%s: crc32c %08x, files.img says %08x: the image is damaged\n",
		       img_dir_path(d), name, got, crc);
		ret = -EBADMSG;
	}
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		free(data);
	else
		*out = data;
	return ret;
}
