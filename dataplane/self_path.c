/* SPDX-License-Identifier: BSD-2-Clause */
#include "self_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int self_sibling_path(const char *rel, char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int written;

	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	written = snprintf(out, len, "%s/%s", exe, rel);
	if (written < 0 || (size_t)written >= len)
		return -ENAMETOOLONG;
	return 0;
}
