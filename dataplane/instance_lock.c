/* SPDX-License-Identifier: BSD-2-Clause */
#include "instance_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_lock(const char *iface)
{
	char path[128];

	if (mkdir(INSTANCE_LOCK_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), INSTANCE_LOCK_DIR "/%s.lock", iface);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int instance_lock(const char *iface)
{
	int fd = open_lock(iface);

	if (fd < 0)
		return fd == -1 ? -errno : fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

bool instance_locked(const char *iface)
{
	int fd = instance_lock(iface);

	if (fd >= 0) {
		close(fd); /* free: nobody serves this interface */
		return false;
	}
	return fd == -EWOULDBLOCK;
}
