/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A hashed timer wheel (Varghese & Lauck, "Hashed and Hierarchical Timing
 * Wheels", scheme 6) for a fixed population of timers named 0..n-1.
 *
 * Time is cut into slots of 2^slot_shift microseconds; a timer due at d sits in
 * slot (d >> slot_shift) mod n_slots, in an unsorted doubly linked list, so that
 * scheduling, moving and cancelling are O(1). Expiry visits only the slots that
 * time has crossed since the last call, and in each only the timers hashed there:
 * the cost follows the timers that come due, not the number of timers waiting.
 * A timer further away than one turn of the wheel is simply met again on the
 * next turn (its deadline is compared, never its slot); with the sizes the TFTP
 * server uses (4096 slots of 1.024 ms, a turn of 4.2 s) only sessions that
 * negotiated a longer RFC 2349 timeout pay for that.
 *
 * Links are indices into arrays owned by the wheel, so the owner's records stay
 * where they are and a timer is named by the owner's own index.
 */
#ifndef STAMPEDE_TIMER_WHEEL_H
#define STAMPEDE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

struct timer_wheel;

/* n_slots must be a power of two; slot_shift below 32. NULL with errno set
 * (EINVAL, ENOMEM). */
struct timer_wheel *timer_wheel_create(uint32_t n_timers, uint32_t n_slots, unsigned slot_shift);
void timer_wheel_destroy(struct timer_wheel *w);

/* Arms timer id for deadline_us, moving it if it was armed. */
void timer_wheel_schedule(struct timer_wheel *w, uint32_t id, uint64_t deadline_us);
void timer_wheel_cancel(struct timer_wheel *w, uint32_t id);
bool timer_wheel_armed(const struct timer_wheel *w, uint32_t id);
uint64_t timer_wheel_deadline(const struct timer_wheel *w, uint32_t id); /* when armed */
uint32_t timer_wheel_count(const struct timer_wheel *w);
/* Timers looked at by expiry so far, due or not: what expiry costs. */
uint64_t timer_wheel_examined(const struct timer_wheel *w);

/* Called for a timer that is due, already disarmed: it may re-arm it (or any
 * other). Returning false means "not now": the wheel re-arms the timer at its
 * old deadline and stops, so that it and the rest still due are met at the next
 * call (a budget per call, for instance). */
typedef bool timer_wheel_fire_fn(void *ctx, uint32_t id);

/* Fires every timer due at now_us (deadline <= now_us) unless fire says stop.
 * Returns the number fired. */
uint32_t timer_wheel_expire(struct timer_wheel *w, uint64_t now_us, timer_wheel_fire_fn *fire, void *ctx);

#endif
