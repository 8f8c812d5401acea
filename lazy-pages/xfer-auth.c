/* xfer-auth: see xfer-conn.h (xfer_auth_*) and xfer-auth-int.h.
 *
 * How: the key is the SHA-256 of the whole key file, read once and wiped; a loaded key holds
 * one GnuTLS client credential (identity "criu-lite"), one server credential (the same key,
 * whatever identity the client names: another identity or key fails the binder check all the
 * same) and one priority cache, shared read-only by every connection of every thread. Both
 * credentials hand out the key through a callback, a copy per handshake that GnuTLS wipes
 * with the session: a credential's own copy would be freed unwiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "lazy-pages/xfer-auth-int.h"

#define PSK_IDENTITY "criu-lite"
#define PSK_LEN	     32u /* SHA-256 */
#define KEY_MIN	     32
#define KEY_MAX	     (1 << 20)

struct xfer_auth {
	bool insecure;
	uint8_t psk[PSK_LEN];
	gnutls_psk_client_credentials_t ccred;
	gnutls_psk_server_credentials_t scred;
	gnutls_priority_t prio;
};

static int auth_alloc(bool insecure, struct xfer_auth **out)
{
	struct xfer_auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->insecure = insecure;
	*out = a;
	return 0;
}

int xfer_auth_insecure(struct xfer_auth **out)
{
	return auth_alloc(true, out);
}

bool xfer_auth_is_insecure(const struct xfer_auth *a)
{
	return a->insecure;
}

void xfer_auth_free(struct xfer_auth *a)
{
	if (!a)
		return;
	if (a->ccred)
		gnutls_psk_free_client_credentials(a->ccred);
	if (a->scred)
		gnutls_psk_free_server_credentials(a->scred);
	if (a->prio)
		gnutls_priority_deinit(a->prio);
	gnutls_memset(a->psk, 0, sizeof(a->psk));
	free(a);
}

/* a copy of the key for one handshake: GnuTLS wipes a session's copies, not a credential's */
static int psk_copy(gnutls_session_t s, gnutls_datum_t *key)
{
	const struct xfer_auth *a = gnutls_session_get_ptr(s);

	key->data = gnutls_malloc(PSK_LEN);
	if (!key->data)
		return -1;
	memcpy(key->data, a->psk, PSK_LEN);
	key->size = PSK_LEN;
	return 0;
}

/* the server's key for any identity: a peer with another identity or key fails the binder */
static int psk_server_key(gnutls_session_t s, const char *username, gnutls_datum_t *key)
{
	(void)username;
	return psk_copy(s, key);
}

static int psk_client_key(gnutls_session_t s, char **username, gnutls_datum_t *key)
{
	*username = gnutls_malloc(sizeof(PSK_IDENTITY));
	if (!*username)
		return -1;
	memcpy(*username, PSK_IDENTITY, sizeof(PSK_IDENTITY));
	if (psk_copy(s, key)) {
		gnutls_free(*username);
		*username = NULL;
		return -1;
	}
	return 0;
}

/* the whole file, at most KEY_MAX + 1 bytes, into a buffer the caller wipes and frees */
static int read_key_file(int fd, size_t size, uint8_t **buf, size_t *len)
{
	size_t cap = size < KEY_MAX ? size + 1 : KEY_MAX + 1, n = 0;
	uint8_t *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			gnutls_memset(b, 0, n);
			free(b);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int key_file_check(int fd, const char *path, size_t *size, struct img_err *err)
{
	struct stat st;

	if (fstat(fd, &st))
		return img_fail(err, errno, "key file %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return img_fail(err, EINVAL, "key file %s: not a regular file", path);
	if (st.st_uid != geteuid())
		return img_fail(err, EPERM, "key file %s: owned by uid %u, not by us (uid %u)",
				path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		return img_fail(
		    err, EPERM,
		    "key file %s: group or others have access to it (mode %04o): chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
	if (st.st_size > KEY_MAX)
		return img_fail(err, EFBIG, "key file %s: %lld bytes, over 1 MiB: not a key file",
				path, (long long)st.st_size);
	*size = (size_t)st.st_size;
	return 0;
}

static int auth_tls_init(struct xfer_auth *a, const char *path, struct img_err *err)
{
	const char *pos = NULL;
	int r;

	r = gnutls_psk_allocate_client_credentials(&a->ccred);
	if (!r) {
		gnutls_psk_set_client_credentials_function(a->ccred, psk_client_key);
		r = gnutls_psk_allocate_server_credentials(&a->scred);
	}
	if (!r) {
		gnutls_psk_set_server_credentials_function(a->scred, psk_server_key);
		r = gnutls_priority_init(&a->prio, XFER_TLS_PRIORITY, &pos);
	}
	if (r)
		return img_fail(err, r == GNUTLS_E_MEMORY_ERROR ? ENOMEM : EINVAL,
				"key file %s: TLS setup: %s%s%s", path, gnutls_strerror(r),
				pos ? " at " : "", pos ? pos : "");
	return 0;
}

int xfer_auth_load(const char *key_file, struct xfer_auth **out, struct img_err *err)
{
	struct xfer_auth *a;
	uint8_t *buf = NULL;
	size_t size = 0, len = 0;
	int fd, ret;

	*out = NULL;
	fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return img_fail(err, errno, "key file %s: %s", key_file, strerror(errno));
	ret = key_file_check(fd, key_file, &size, err);
	if (!ret) {
		ret = read_key_file(fd, size, &buf, &len);
		if (ret)
			img_fail(err, -ret, "key file %s: %s", key_file, strerror(-ret));
	}
	close(fd);
	if (ret)
		return ret;
	if (len < KEY_MIN || len > KEY_MAX) {
		ret =
		    len < KEY_MIN
			? img_fail(err, EINVAL, "key file %s: %zu bytes, a key needs at least %d",
				   key_file, len, KEY_MIN)
			: img_fail(err, EFBIG, "key file %s: over 1 MiB: not a key file", key_file);
		goto out;
	}
	ret = auth_alloc(false, &a);
	if (ret) {
		img_fail(err, ENOMEM, "key file %s: out of memory", key_file);
		goto out;
	}
	ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, a->psk);
	if (ret) {
		ret = img_fail(err, EINVAL, "key file %s: SHA-256: %s", key_file,
			       gnutls_strerror(ret));
		xfer_auth_free(a);
		goto out;
	}
	ret = auth_tls_init(a, key_file, err);
	if (ret)
		xfer_auth_free(a);
	else
		*out = a;
out:
	if (buf)
		gnutls_memset(buf, 0, len);
	free(buf);
	return ret;
}

int xfer_auth_tls_setup(const struct xfer_auth *a, gnutls_session_t s, bool server)
{
	gnutls_session_set_ptr(s, (void *)a);
	if (gnutls_priority_set(s, a->prio) ||
	    gnutls_credentials_set(s, GNUTLS_CRD_PSK, server ? (void *)a->scred : (void *)a->ccred))
		return -ENOMEM;
	return 0;
}

const char *xfer_tls_version(void)
{
	const char *v = gnutls_check_version(NULL);

	return v ? v : "?";
}
