/* version: criu-lite's version string (--version, inventory.img's tool_version). */
#ifndef CRIU_LITE_VERSION_H
#define CRIU_LITE_VERSION_H

#define CRIU_LITE_VERSION "0.3"

#endif
