/* SPDX-License-Identifier: BSD-2-Clause */
/* Files that ship beside a binary in build/ (the dataplane, the XDP object). */
#ifndef STAMPEDE_SELF_PATH_H
#define STAMPEDE_SELF_PATH_H

#include <stddef.h>

/* out = the directory of the running executable + "/" + rel. Returns 0, or a
 * negative errno (-ENAMETOOLONG when out is too small). */
int self_sibling_path(const char *rel, char *out, size_t len);

#endif
