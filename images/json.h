/* json: decode images to JSON (the engine behind `criu-lite show`).
 *
 * Contract: any protobuf-c message becomes a json-c object by walking its
 * descriptor (field names as in the .proto, enums by name, 64-bit values as
 * JSON numbers, short bytes as hex, long bytes summarised by size and
 * crc32c). A record file becomes {"file", "kind", "records": [...]}; a raw
 * data file is summarised, never dumped. Nothing is printed here. */
#ifndef CRIU_LITE_IMG_JSON_H
#define CRIU_LITE_IMG_JSON_H

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

#include "images/img.h"

struct json_object *img_msg_to_json(const ProtobufCMessage *msg);
/* One image file (record file or raw data file) to JSON. */
int img_file_to_json(const char *path, struct json_object **out, struct img_err *err);
/* Every image file of a directory, in name order: {"dir": path, "images": [...]}. */
int img_dir_to_json(const char *path, struct json_object **out, struct img_err *err);

#endif
