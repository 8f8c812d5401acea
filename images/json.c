/* json: see json.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/json.h"

#define BYTES_INLINE_MAX 64 /* longer bytes fields are summarised */

static struct json_object *bytes_to_json(const ProtobufCBinaryData *b)
{
	static const char hex[] = "0123456789abcdef";
	struct json_object *o;
	char *s;

	if (b->len > BYTES_INLINE_MAX) {
		o = json_object_new_object();
		json_object_object_add(o, "size", json_object_new_uint64(b->len));
		json_object_object_add(o, "crc32c",
				       json_object_new_uint64(img_crc32c(0, b->data, b->len)));
		return o;
	}
	s = malloc(b->len * 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < b->len; i++) {
		s[2 * i] = hex[b->data[i] >> 4];
		s[2 * i + 1] = hex[b->data[i] & 15];
	}
	s[b->len * 2] = 0;
	o = json_object_new_string(s);
	free(s);
	return o;
}

static struct json_object *enum_to_json(const ProtobufCEnumDescriptor *ed, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);

	return ev ? json_object_new_string(ev->name) : json_object_new_int(v);
}

/* One value of a field, at p (the address of the value itself). */
static struct json_object *value_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_object_new_int(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_object_new_int64(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_object_new_int64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_object_new_uint64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_object_new_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_object_new_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_to_json(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		return json_object_new_string(*(char *const *)p ? *(char *const *)p : "");
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_to_json(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return img_msg_to_json(*(ProtobufCMessage *const *)p);
	}
	return NULL;
}

static size_t value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

/* Is an optional (proto2) or oneof field present? */
static int field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label != PROTOBUF_C_LABEL_OPTIONAL)
		return 1;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

struct json_object *img_msg_to_json(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;
	struct json_object *o;

	if (!m)
		return NULL;
	d = m->descriptor;
	o = json_object_new_object();
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)(base + f->offset);
			struct json_object *a = json_object_new_array_ext((int)n);

			for (size_t k = 0; k < n; k++)
				json_object_array_add(
				    a, value_to_json(f, arr + k * value_size(f->type)));
			json_object_object_add(o, f->name, a);
			continue;
		}
		if (!field_present(m, f))
			continue;
		json_object_object_add(o, f->name, value_to_json(f, base + f->offset));
	}
	return o;
}

static struct json_object *raw_summary(const char *path, const char *name, struct img_err *err,
				       int *ret)
{
	struct json_object *o;
	struct stat st;
	uint32_t crc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*ret = 0;
	if (fd < 0 || fstat(fd, &st)) {
		*ret = img_fail(err, errno, "%s: can't open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size) {
		void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			*ret = img_fail(err, errno, "%s: can't map: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		crc = img_crc32c(0, p, st.st_size);
		munmap(p, st.st_size);
	}
	close(fd);
	o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(name));
	json_object_object_add(o, "kind", json_object_new_string("raw"));
	json_object_object_add(o, "size", json_object_new_uint64(st.st_size));
	json_object_object_add(o, "pages", json_object_new_uint64(st.st_size / 4096));
	json_object_object_add(o, "crc32c", json_object_new_uint64(crc));
	return o;
}

/* Raw data files carry no header; they are named pages-N.img, ghost-N.img,
 * pipes-data-N.img or unixsk-data-N.img. */
static int is_raw_name(const char *name)
{
	return (strncmp(name, "pages-", 6) == 0 || strncmp(name, "ghost-", 6) == 0 ||
		strncmp(name, "pipes-data-", 11) == 0 || strncmp(name, "unixsk-data-", 12) == 0) &&
	       strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".img") == 0;
}

int img_file_to_json(const char *path, struct json_object **out, struct img_err *err)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct img_reader *r;
	struct json_object *o, *recs;
	ProtobufCMessage *m;
	int ret;

	if (is_raw_name(name)) {
		*out = raw_summary(path, name, err, &ret);
		return ret;
	}
	ret = img_reader_open_path(path, &r, err);
	if (ret)
		return ret;
	o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(name));
	json_object_object_add(o, "kind", json_object_new_string(img_reader_kind(r)->name));
	recs = json_object_new_array();
	while ((ret = img_read(r, &m, err)) > 0) {
		json_object_array_add(recs, img_msg_to_json(m));
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_reader_close(r);
	if (ret < 0) {
		json_object_put(recs);
		json_object_put(o);
		return ret;
	}
	json_object_object_add(o, "records", recs);
	*out = o;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int img_dir_to_json(const char *path, struct json_object **out, struct img_err *err)
{
	struct json_object *o, *arr;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;
	DIR *dir = opendir(path);

	if (!dir)
		return img_fail(err, errno, "%s: can't open directory: %s", path, strerror(errno));
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l < 5 || strcmp(de->d_name + l - 4, ".img") != 0)
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			ret = img_fail(err, ENOMEM, "%s: out of memory", path);
			break;
		}
		names = nn;
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), name_cmp);
	o = json_object_new_object();
	json_object_object_add(o, "dir", json_object_new_string(path));
	arr = json_object_new_array();
	json_object_object_add(o, "images", arr);
	for (size_t i = 0; i < n && !ret; i++) {
		char p[4096];
		struct json_object *f;

		snprintf(p, sizeof(p), "%s/%s", path, names[i]);
		ret = img_file_to_json(p, &f, err);
		if (!ret)
			json_object_array_add(arr, f);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ret) {
		json_object_put(o);
		return ret;
	}
	*out = o;
	return 0;
}
