/* SPDX-License-Identifier: BSD-2-Clause */
#include "session_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_MAGIC   "SPJRNL01"
#define JOURNAL_VERSION 1

struct journal_header {
	char magic[8];
	uint32_t version;
	uint32_t entry_size;
	uint16_t port_lo, port_hi;
	uint32_t pad;
};

struct session_journal {
	struct journal_header *header;
	struct session_journal_entry *entries;
	size_t map_len;
};

int session_journal_open(const char *path, uint16_t port_lo, uint16_t port_hi, struct session_journal **out)
{
	size_t n = (size_t)(port_hi - port_lo) + 1;
	size_t len = sizeof(struct journal_header) + n * sizeof(struct session_journal_entry);
	struct session_journal *j;
	struct stat st;
	bool fresh;
	void *map;
	int fd, r;

	if (port_hi < port_lo)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL; /* not a file we made */
	}
	fresh = (size_t)st.st_size != len;
	if (fresh && ftruncate(fd, 0) < 0) { /* zero it all: no entry of another geometry survives */
		r = -errno;
		close(fd);
		return r;
	}
	if (fresh && ftruncate(fd, (off_t)len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	j = calloc(1, sizeof(*j));
	if (!j) {
		munmap(map, len);
		return -ENOMEM;
	}
	j->header = map;
	j->entries = (struct session_journal_entry *)(j->header + 1);
	j->map_len = len;
	if (memcmp(j->header->magic, JOURNAL_MAGIC, 8) != 0 || j->header->version != JOURNAL_VERSION ||
	    j->header->entry_size != sizeof(struct session_journal_entry) || j->header->port_lo != port_lo ||
	    j->header->port_hi != port_hi) {
		memset(map, 0, len);
		memcpy(j->header->magic, JOURNAL_MAGIC, 8);
		j->header->version = JOURNAL_VERSION;
		j->header->entry_size = sizeof(struct session_journal_entry);
		j->header->port_lo = port_lo;
		j->header->port_hi = port_hi;
	}
	*out = j;
	return 0;
}

void session_journal_close(struct session_journal *j)
{
	if (!j)
		return;
	munmap(j->header, j->map_len);
	free(j);
}

struct session_journal_entry *session_journal_entry(struct session_journal *j, uint16_t port)
{
	if (!j || port < j->header->port_lo || port > j->header->port_hi)
		return NULL;
	return &j->entries[port - j->header->port_lo];
}

uint64_t session_journal_now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec;
}

bool session_journal_live(const struct session_journal_entry *e, uint64_t now_s)
{
	return e && e->active == 1 && e->touched_s + SESSION_JOURNAL_HOLD_S >= now_s;
}
