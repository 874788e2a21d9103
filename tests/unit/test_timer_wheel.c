/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hashed timer wheel (dataplane/timer_wheel.c): timers fire exactly when
 * due, never early, once; moving and cancelling; timers beyond one turn; long
 * pauses; a fire callback that re-arms or asks to stop; and what expiry costs,
 * counted by the wheel itself: the timers it looks at, not the ones armed.
 * Time is chosen by the test, in microseconds.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <errno.h>
#include <stdlib.h>

#include "timer_wheel.h"

#define SLOTS 64
#define SHIFT 10 /* 1024 us: a turn is 65536 us */
#define TURN_US ((uint64_t)SLOTS << SHIFT)

struct firing {
	uint32_t ids[4096];
	uint64_t at[4096];
	size_t n;
	uint64_t now;
	size_t budget;        /* stop after this many (SIZE_MAX: never) */
	uint64_t rearm_after; /* 0: leave disarmed */
	struct timer_wheel *w;
};

static bool record(void *ctx, uint32_t id)
{
	struct firing *f = ctx;

	if (f->n >= f->budget)
		return false;
	cr_assert(not(timer_wheel_armed(f->w, id)), "a firing timer is already disarmed");
	cr_assert(lt(sz, f->n, sizeof(f->ids) / sizeof(f->ids[0])));
	f->ids[f->n] = id;
	f->at[f->n] = f->now;
	f->n++;
	if (f->rearm_after)
		timer_wheel_schedule(f->w, id, f->now + f->rearm_after);
	return true;
}

static struct timer_wheel *wheel(uint32_t n_timers)
{
	struct timer_wheel *w = timer_wheel_create(n_timers, SLOTS, SHIFT);

	cr_assert(w != NULL);
	return w;
}

/* Most tests: a wheel of 8 timers and a recorder. */
static struct {
	struct timer_wheel *w;
	struct firing *f;
} fx;

static uint32_t expire(struct timer_wheel *w, struct firing *f, uint64_t now)
{
	f->now = now;
	f->w = w;
	return timer_wheel_expire(w, now, record, f);
}

static struct firing *new_firing(void)
{
	struct firing *f = calloc(1, sizeof(*f));

	cr_assert(f != NULL);
	f->budget = SIZE_MAX;
	return f;
}

static void setup(void)
{
	fx.w = NULL;
	fx.f = new_firing();
}

static void teardown(void)
{
	timer_wheel_destroy(fx.w);
	free(fx.f);
}

TestSuite(timer_wheel, .init = setup, .fini = teardown);

Test(timer_wheel, create_rejects_bad_sizes)
{
	errno = 0;
	cr_expect(eq(ptr, timer_wheel_create(0, 64, 10), NULL));
	cr_expect(eq(int, errno, EINVAL));
	cr_expect(eq(ptr, timer_wheel_create(8, 0, 10), NULL));
	cr_expect(eq(ptr, timer_wheel_create(8, 48, 10), NULL), "slots must be a power of two");
	cr_expect(eq(ptr, timer_wheel_create(8, 64, 32), NULL));
	timer_wheel_destroy(NULL);
}

Test(timer_wheel, timer_fires_at_its_deadline_not_before_and_once)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	timer_wheel_schedule(w, 3, 5000);
	cr_assert(timer_wheel_armed(w, 3));
	cr_assert(eq(u64, timer_wheel_deadline(w, 3), 5000));
	cr_assert(eq(u32, expire(w, f, 4999), 0));
	cr_assert(eq(u32, expire(w, f, 5000), 1));
	cr_assert(eq(u32, f->ids[0], 3));
	cr_assert(not(timer_wheel_armed(w, 3)));
	cr_assert(eq(u32, expire(w, f, 100000), 0), "fired once only");
	cr_assert(eq(u32, timer_wheel_count(w), 0));
}

/* Two deadlines in the same 1024 us slot: the later one is still there after
 * the earlier fired. */
Test(timer_wheel, same_slot_different_deadlines)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	timer_wheel_schedule(w, 0, 2048 + 10);
	timer_wheel_schedule(w, 1, 2048 + 900);
	cr_assert(eq(u32, expire(w, f, 2048 + 500), 1));
	cr_assert(eq(u32, f->ids[0], 0));
	cr_assert(eq(u32, expire(w, f, 2048 + 899), 0));
	cr_assert(eq(u32, expire(w, f, 2048 + 900), 1));
	cr_assert(eq(u32, f->ids[1], 1));
}

Test(timer_wheel, rescheduling_moves_and_cancel_disarms)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	timer_wheel_schedule(w, 1, 1000);
	timer_wheel_schedule(w, 2, 1000);
	timer_wheel_schedule(w, 1, 30000); /* moved later */
	timer_wheel_cancel(w, 2);
	timer_wheel_cancel(w, 2); /* twice is harmless */
	cr_assert(eq(u32, timer_wheel_count(w), 1));
	cr_assert(eq(u32, expire(w, f, 29999), 0));
	cr_assert(eq(u32, expire(w, f, 30000), 1));
	cr_assert(eq(u32, f->ids[0], 1));
}

/* A deadline moved earlier fires at the new time. */
Test(timer_wheel, deadline_moved_earlier_fires_early)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	timer_wheel_schedule(w, 4, 50000);
	timer_wheel_schedule(w, 4, 3000);
	cr_assert(eq(u32, timer_wheel_count(w), 1));
	cr_assert(eq(u32, expire(w, f, 3000), 1));
	cr_assert(eq(u32, expire(w, f, 60000), 0));
}

/* What an ACK does to its session's timer: push it 50 ms ahead (within a turn,
 * as the server's timeouts are), every millisecond. The timer is moved when
 * expiry meets it, about once per 50 ms rather than at every push, and fires
 * 50 ms after the last one. */
Test(timer_wheel, timer_pushed_later_again_and_again_is_moved_lazily)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;
	uint64_t t;

	for (t = 0; t <= 1000000; t += 1000) {
		timer_wheel_schedule(w, 5, t + 50000);
		expire(w, f, t);
	}
	cr_assert(eq(sz, f->n, 0));
	cr_expect(le(u64, timer_wheel_examined(w), 25), "examined %llu times for 1000 pushes",
		  (unsigned long long)timer_wheel_examined(w));
	for (; t <= 1050000; t += 1000)
		expire(w, f, t);
	cr_assert(eq(sz, f->n, 1));
	cr_assert(eq(u64, f->at[0], 1050000));
}

/* A deadline several turns away shares its slot with near ones and waits. */
Test(timer_wheel, deadline_beyond_one_turn_waits_for_its_turn)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;
	const uint64_t far = 3 * TURN_US + 5000;

	timer_wheel_schedule(w, 0, far);
	timer_wheel_schedule(w, 1, 5000); /* the same slot, three turns earlier */
	for (uint64_t t = 0; t < far; t += 1000)
		expire(w, f, t);
	cr_assert(eq(sz, f->n, 1));
	cr_assert(eq(u32, f->ids[0], 1));
	expire(w, f, far);
	cr_assert(eq(sz, f->n, 2));
	cr_assert(eq(u32, f->ids[1], 0));
	cr_assert(eq(u64, f->at[1], far));
}

/* The clock jumps ahead by many turns: every due timer fires in one call, and
 * the call visits each slot once, not once per turn missed. */
Test(timer_wheel, long_pause_fires_everything_due_in_one_call)
{
	struct timer_wheel *w = fx.w = wheel(200);
	struct firing *f = fx.f;

	for (uint32_t i = 0; i < 199; i++)
		timer_wheel_schedule(w, i, 1000 + (uint64_t)i * 997);
	timer_wheel_schedule(w, 199, 1000 * TURN_US); /* still far */
	cr_assert(eq(u32, expire(w, f, 100 * TURN_US), 199));
	cr_assert(eq(u64, timer_wheel_examined(w), 200), "each timer looked at once");
	cr_assert(timer_wheel_armed(w, 199));
}

/* A deadline already behind the wheel's position is not put off by a turn. */
Test(timer_wheel, deadline_in_the_past_fires_at_the_next_call)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	timer_wheel_schedule(w, 7, 1);
	expire(w, f, 500000); /* the wheel has moved on */
	cr_assert(eq(sz, f->n, 1));
	timer_wheel_schedule(w, 6, 100); /* long past */
	cr_assert(eq(u32, expire(w, f, 500001), 1));
	cr_assert(eq(u32, f->ids[1], 6));
}

/* fire() re-arming its own timer: a periodic timer fires once per period. */
Test(timer_wheel, timer_rearmed_from_its_callback_fires_again_later)
{
	struct timer_wheel *w = fx.w = wheel(8);
	struct firing *f = fx.f;

	f->rearm_after = 3000;
	timer_wheel_schedule(w, 2, 3000);
	for (uint64_t t = 0; t <= 30000; t += 500)
		expire(w, f, t);
	cr_assert(eq(sz, f->n, 10));
	for (size_t i = 0; i < f->n; i++)
		cr_expect(eq(u64, f->at[i], (i + 1) * 3000));
}

/* fire() says "not now": the timer stays armed and due, and the next call
 * takes it and the rest. */
Test(timer_wheel, budget_stop_leaves_the_rest_due)
{
	struct timer_wheel *w = fx.w = wheel(100);
	struct firing *f = fx.f;
	bool seen[100] = { false };

	for (uint32_t i = 0; i < 100; i++)
		timer_wheel_schedule(w, i, 7000);
	f->budget = 30;
	cr_assert(eq(u32, expire(w, f, 7000), 30));
	cr_assert(eq(u32, timer_wheel_count(w), 70));
	f->budget = SIZE_MAX;
	cr_assert(eq(u32, expire(w, f, 7001), 70));
	for (size_t i = 0; i < f->n; i++) {
		cr_assert(not(seen[f->ids[i]]), "timer %u fired twice", f->ids[i]);
		seen[f->ids[i]] = true;
	}
	cr_assert(eq(u32, timer_wheel_count(w), 0));
}

/* The property the TFTP server relies on: ticking every millisecond with
 * 60,000 armed timers, 3 of them due, looks at a few timers per tick rather
 * than all of them. */
Test(timer_wheel, expiry_cost_follows_due_timers_not_armed_ones)
{
	const uint32_t n = 60000;
	struct timer_wheel *w = fx.w = timer_wheel_create(n, 4096, 10); /* the server's sizes */
	struct firing *f = fx.f;
	uint64_t before;

	cr_assert(w != NULL);
	for (uint32_t i = 3; i < n; i++)
		timer_wheel_schedule(w, i, 3600ull * 1000 * 1000 + i); /* an hour away: idle */
	timer_wheel_schedule(w, 0, 20000);
	timer_wheel_schedule(w, 1, 40000);
	timer_wheel_schedule(w, 2, 60000);
	f->w = w;
	expire(w, f, 0);
	before = timer_wheel_examined(w);
	for (uint64_t t = 1000; t <= 100000; t += 1000)
		expire(w, f, t);
	cr_assert(eq(sz, f->n, 3));
	/* The idle timers fill every slot (60,000 over 4096): each 1.024 ms slot
	 * is met about once in 100 ticks, so about 15 of them per slot. */
	cr_expect(lt(u64, timer_wheel_examined(w) - before, 3000),
		  "examined %llu timers in 100 ticks", (unsigned long long)(timer_wheel_examined(w) - before));
}
