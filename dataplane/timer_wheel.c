/* SPDX-License-Identifier: BSD-2-Clause */
#include "timer_wheel.h"

#include <errno.h>
#include <stdlib.h>

#define NIL UINT32_MAX

struct tw_slot {
	uint32_t head, tail, n;
};

struct tw_timer {
	uint64_t deadline;
	uint32_t next, prev;
	uint32_t slot; /* NIL: disarmed */
};

struct timer_wheel {
	struct tw_slot *slots;
	struct tw_timer *timers;
	uint32_t n_timers;
	uint32_t mask;
	unsigned shift;
	uint32_t count;
	/* The slot time (microseconds >> shift) expiry visits next. Slots behind
	 * it hold no timer that was due when they were visited. */
	uint64_t cursor;
	uint64_t examined;
};

struct timer_wheel *timer_wheel_create(uint32_t n_timers, uint32_t n_slots, unsigned slot_shift)
{
	struct timer_wheel *w;

	if (n_timers == 0 || n_timers == NIL || n_slots == 0 || (n_slots & (n_slots - 1)) != 0 || slot_shift >= 32) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->slots = malloc(n_slots * sizeof(*w->slots));
	w->timers = malloc(n_timers * sizeof(*w->timers));
	if (!w->slots || !w->timers) {
		timer_wheel_destroy(w);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < n_slots; i++)
		w->slots[i] = (struct tw_slot){ NIL, NIL, 0 };
	for (uint32_t i = 0; i < n_timers; i++)
		w->timers[i] = (struct tw_timer){ 0, NIL, NIL, NIL };
	w->n_timers = n_timers;
	w->mask = n_slots - 1;
	w->shift = slot_shift;
	return w;
}

void timer_wheel_destroy(struct timer_wheel *w)
{
	if (!w)
		return;
	free(w->slots);
	free(w->timers);
	free(w);
}

static void link_tail(struct timer_wheel *w, uint32_t slot, uint32_t id)
{
	struct tw_slot *s = &w->slots[slot];
	struct tw_timer *t = &w->timers[id];

	t->slot = slot;
	t->next = NIL;
	t->prev = s->tail;
	if (s->tail != NIL)
		w->timers[s->tail].next = id;
	else
		s->head = id;
	s->tail = id;
	s->n++;
	w->count++;
}

static void unlink_timer(struct timer_wheel *w, uint32_t id)
{
	struct tw_timer *t = &w->timers[id];
	struct tw_slot *s = &w->slots[t->slot];

	if (t->prev != NIL)
		w->timers[t->prev].next = t->next;
	else
		s->head = t->next;
	if (t->next != NIL)
		w->timers[t->next].prev = t->prev;
	else
		s->tail = t->prev;
	t->slot = t->next = t->prev = NIL;
	s->n--;
	w->count--;
}

/* The slot for a deadline. One already behind the cursor goes where expiry
 * looks next, not a whole turn later. */
static uint32_t slot_of(const struct timer_wheel *w, uint64_t deadline_us)
{
	uint64_t when = deadline_us >> w->shift;

	return (uint32_t)((when < w->cursor ? w->cursor : when) & w->mask);
}

/* A timer pushed later (every ACK does that to its session's timer) only has its
 * deadline changed: expiry, meeting it too early in its old slot, moves it
 * then, once, instead of at every push. An earlier deadline moves it now. */
void timer_wheel_schedule(struct timer_wheel *w, uint32_t id, uint64_t deadline_us)
{
	struct tw_timer *t = &w->timers[id];

	if (t->slot != NIL) {
		if (deadline_us >= t->deadline) {
			t->deadline = deadline_us;
			return;
		}
		unlink_timer(w, id);
	}
	t->deadline = deadline_us;
	link_tail(w, slot_of(w, deadline_us), id);
}

void timer_wheel_cancel(struct timer_wheel *w, uint32_t id)
{
	if (w->timers[id].slot != NIL)
		unlink_timer(w, id);
}

bool timer_wheel_armed(const struct timer_wheel *w, uint32_t id)
{
	return w->timers[id].slot != NIL;
}

uint64_t timer_wheel_deadline(const struct timer_wheel *w, uint32_t id)
{
	return w->timers[id].deadline;
}

uint32_t timer_wheel_count(const struct timer_wheel *w)
{
	return w->count;
}

uint64_t timer_wheel_examined(const struct timer_wheel *w)
{
	return w->examined;
}

/* Visits the n timers slot held on arrival, oldest first. Timers not due yet go
 * to the slot of their deadline (this one, at its tail, if they are due later in
 * it or a turn later); timers fire() arms meanwhile land at the tail too and
 * wait for the next visit, so the walk always ends. Returns false when fire()
 * asked to stop. */
static bool expire_slot(struct timer_wheel *w, uint32_t slot, uint64_t now_us, timer_wheel_fire_fn *fire,
			void *ctx, uint32_t *fired)
{
	for (uint32_t left = w->slots[slot].n; left > 0 && w->slots[slot].head != NIL; left--) {
		uint32_t id = w->slots[slot].head;
		uint64_t deadline = w->timers[id].deadline;

		w->examined++;
		unlink_timer(w, id);
		if (deadline > now_us) {
			link_tail(w, slot_of(w, deadline), id);
			continue;
		}
		if (!fire(ctx, id)) {
			timer_wheel_schedule(w, id, deadline);
			return false;
		}
		(*fired)++;
	}
	return true;
}

uint32_t timer_wheel_expire(struct timer_wheel *w, uint64_t now_us, timer_wheel_fire_fn *fire, void *ctx)
{
	uint64_t target = now_us >> w->shift;
	uint32_t fired = 0;

	if (w->count == 0) {
		if (target > w->cursor)
			w->cursor = target;
		return 0;
	}
	/* After a long pause every slot is visited once, not once per turn missed. */
	if (target > w->cursor + w->mask)
		w->cursor = target - w->mask;
	for (;;) {
		if (!expire_slot(w, (uint32_t)(w->cursor & w->mask), now_us, fire, ctx, &fired))
			break; /* the cursor stays: what is left here is still due */
		/* The current slot is visited again next time: timers due later in
		 * it than now_us are still there. */
		if (w->cursor >= target)
			break;
		w->cursor++;
	}
	return fired;
}
