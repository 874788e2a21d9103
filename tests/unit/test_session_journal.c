/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transfer journal (dataplane/session_journal.h): a file mapped by one
 * dataplane after another. What one wrote, the next reads; a journal of another
 * port range, or one that is not ours, is started afresh; stale entries are not
 * live.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session_journal.h"

static char path[64];

static void setup(void)
{
	int fd;

	strcpy(path, "/tmp/stampede-journal-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	unlink(path); /* the journal creates it */
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(session_journal, .init = setup, .fini = teardown);

static struct session_journal *open_range(uint16_t lo, uint16_t hi)
{
	struct session_journal *j = NULL;

	cr_assert(eq(int, session_journal_open(path, lo, hi, &j), 0));
	return j;
}

Test(session_journal, entries_outlive_the_process_that_wrote_them)
{
	struct session_journal *j = open_range(61440, 61443);
	struct session_journal_entry *e = session_journal_entry(j, 61442);
	struct stat st;

	cr_assert(e != NULL);
	cr_assert(eq(u32, e->active, 0), "a new journal has no transfer");
	e->peer_ip = 0x0200000a;
	e->acked = 70000;
	strcpy(e->name, "ipxe.efi");
	e->touched_s = session_journal_now_s();
	e->active = 1;
	session_journal_close(j);

	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(u32, st.st_mode & 0777, 0600), "client addresses are nobody else's business");
	j = open_range(61440, 61443);
	e = session_journal_entry(j, 61442);
	cr_assert(session_journal_live(e, session_journal_now_s()));
	cr_assert(eq(u64, e->acked, 70000));
	cr_assert(eq(str, e->name, "ipxe.efi"));
	cr_assert(not(session_journal_live(session_journal_entry(j, 61441), session_journal_now_s())));
	session_journal_close(j);
}

Test(session_journal, ports_outside_the_range_have_no_entry)
{
	struct session_journal *j = open_range(61440, 61443);

	cr_assert(eq(ptr, session_journal_entry(j, 61439), NULL));
	cr_assert(eq(ptr, session_journal_entry(j, 61444), NULL));
	cr_assert(eq(ptr, session_journal_entry(NULL, 61440), NULL), "no journal: no entry");
	cr_assert(not(eq(ptr, session_journal_entry(j, 61443), NULL)));
	session_journal_close(j);
}

Test(session_journal, another_port_range_starts_afresh)
{
	struct session_journal *j = open_range(61440, 61443);
	struct session_journal_entry *e = session_journal_entry(j, 61440);

	e->active = 1;
	e->touched_s = session_journal_now_s();
	session_journal_close(j);
	j = open_range(61440, 61447); /* the operator changed tftp.port_range */
	cr_assert(not(session_journal_live(session_journal_entry(j, 61440), session_journal_now_s())));
	session_journal_close(j);
	j = open_range(50000, 50003); /* same size, other ports: the header tells */
	cr_assert(not(session_journal_live(session_journal_entry(j, 50000), session_journal_now_s())));
	session_journal_close(j);
}

Test(session_journal, a_file_that_is_not_a_journal_is_started_afresh)
{
	FILE *f = fopen(path, "w");
	struct session_journal *j;

	cr_assert(f != NULL);
	for (int i = 0; i < 20000; i++)
		fputc(0xff, f); /* garbage of some size */
	fclose(f);
	j = open_range(61440, 61443);
	for (uint16_t p = 61440; p <= 61443; p++)
		cr_assert(not(session_journal_live(session_journal_entry(j, p), session_journal_now_s())));
	session_journal_close(j);
}

Test(session_journal, entries_go_stale_after_the_hold_time)
{
	struct session_journal *j = open_range(61440, 61440);
	struct session_journal_entry *e = session_journal_entry(j, 61440);
	uint64_t now = session_journal_now_s();

	e->active = 1;
	e->touched_s = now;
	cr_assert(session_journal_live(e, now + SESSION_JOURNAL_HOLD_S));
	cr_assert(not(session_journal_live(e, now + SESSION_JOURNAL_HOLD_S + 1)));
	e->active = 0;
	cr_assert(not(session_journal_live(e, now)));
	session_journal_close(j);
}

Test(session_journal, a_symlink_in_its_place_is_refused)
{
	struct session_journal *j = NULL;

	cr_assert(eq(int, symlink("/etc/passwd", path), 0));
	cr_assert(lt(int, session_journal_open(path, 61440, 61443, &j), 0), "O_NOFOLLOW: never map another file");
	cr_assert(eq(ptr, j, NULL));
}
