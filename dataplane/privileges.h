/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What each process keeps once it has started, and the means of dropping the
 * rest in every one of its threads.
 *
 * Linux keeps the capability sets, the bounding set and no_new_privs per
 * thread, and capset(2) and prctl(2) change only the calling thread. Both of
 * Stampede's processes have threads by the time they can give anything up
 * (EAL's interrupt thread and polling lcores and the control thread in the
 * dataplane; libmicrohttpd's workers in the control plane), so a drop is
 * broadcast, as glibc does for setuid(): every other thread is sent a signal
 * whose handler applies the plan with raw system calls (async-signal-safe),
 * the calling thread applies its own part with libcap-ng, and then every
 * thread's state is read back from /proc/self/task/TID/status and compared
 * with the plan, again (a few rounds at most) if a thread was missed.
 *
 * The sets, found by experiment on Linux 6.x with DPDK 22.11's net_af_xdp (a
 * dataplane started under setpriv with one capability less each time):
 *
 *   starting a dataplane   CAP_NET_ADMIN  attach the XDP program (netlink), load it
 *                          CAP_SYS_ADMIN  load it (BPF with the per-CPU maps), and find
 *                                         its maps by id (BPF_*_GET_FD_BY_ID: SYS_ADMIN only)
 *                          CAP_NET_RAW    the AF_XDP (or AF_PACKET) socket
 *                          CAP_IPC_LOCK   register the UMEM beyond RLIMIT_MEMLOCK
 *                          CAP_SETPCAP    so that it can narrow its own bounding set
 *   a serving dataplane    nothing        serving, reloads and statistics use descriptors it
 *                                         already holds; a dataplane's XDP program is
 *                                         detached by its control plane once it has exited
 *                                         (as after a crash), so the process that parses
 *                                         what the network sends ends with no capability
 *                          CAP_NET_ADMIN  only when it runs alone (no --control-fd) with
 *                                         af_xdp: to detach its XDP program when it stops
 *   serve's launcher       CAP_NET_ADMIN, CAP_SYS_ADMIN effective (one thread):
 *                                         remove a dead dataplane's XDP program (find it by
 *                                         id, check its name, detach it); the starting set
 *                                         permitted (and inheritable and ambient when it
 *                                         runs as a user) for the dataplanes it (re)starts
 *   serve (control plane)  nothing        in every thread: what needs privileges it asks of
 *                                         its launcher (control/launcher.h)
 */
#ifndef STAMPEDE_PRIVILEGES_H
#define STAMPEDE_PRIVILEGES_H

#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIV_CAP(c) (UINT64_C(1) << (c))

#define PRIV_DATAPLANE_START                                                                                \
	(PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_SYS_ADMIN) | PRIV_CAP(CAP_NET_RAW) | PRIV_CAP(CAP_IPC_LOCK) | \
	 PRIV_CAP(CAP_SETPCAP))
#define PRIV_DATAPLANE_SERVE PRIV_CAP(CAP_NET_ADMIN)
#define PRIV_LAUNCHER      (PRIV_CAP(CAP_NET_ADMIN) | PRIV_CAP(CAP_SYS_ADMIN))

/* One thread's capability sets, as bit masks of CAP_* numbers. */
struct thread_privileges {
	uint64_t effective, permitted, inheritable, ambient, bounding;
	bool no_new_privs;
};

struct privilege_plan {
	struct thread_privileges self;   /* the calling thread */
	struct thread_privileges others; /* every other thread */
	bool change_id;                  /* become uid/gid (supplementary groups: gid only) */
	uid_t uid;
	gid_t gid;
};

/* The dataplane once it serves: CAP_NET_ADMIN when it must detach its XDP
 * program itself at exit (af_xdp without a control plane), nothing otherwise;
 * the same in every thread. */
void privileges_dataplane_plan(bool detach_at_exit, struct privilege_plan *plan);

/* serve's launcher (control/launcher.h), one thread: see the table above.
 * With as_user, it becomes uid/gid and hands the dataplane's starting set
 * down as ambient capabilities; without, it stays root and a root child gets
 * them from the bounding set. */
void privileges_launcher_plan(bool as_user, uid_t uid, gid_t gid, struct privilege_plan *plan);

/* serve once its HTTP port is bound and its launcher runs: nothing in any
 * thread, bounding set empty, no_new_privs; with change_id it becomes uid/gid. */
void privileges_control_plan(bool change_id, uid_t uid, gid_t gid, struct privilege_plan *plan);

/* Apply plan to every thread of the process and check that each has it;
 * the process is made non-dumpable (see privileges.c).
 * When the calling thread cannot narrow the bounding set (no CAP_SETPCAP),
 * the bounding set is left as it is and not checked. Returns 0, or -1 with
 * err saying what failed (the process may then hold less than planned, never
 * more than it had). */
int privileges_apply(const struct privilege_plan *plan, char *err, size_t len);

/* The dataplane's single call once it serves: apply its plan and say in msg
 * what it kept and why (or, returning -1, what failed). */
int privileges_drop_dataplane(bool detach_at_exit, char *msg, size_t len);

/* Whether this thread may still detach an XDP program (CAP_NET_ADMIN). */
bool privileges_may_detach_xdp(void);

/* Parse the Cap*: and NoNewPrivs: lines of a /proc/.../status text. Returns 0,
 * or -1 when one is missing or malformed. */
int privileges_parse_status(const char *text, struct thread_privileges *out);

/* Read the state of thread tid of this process (0: the calling thread). */
int privileges_read_thread(pid_t tid, struct thread_privileges *out);

/* Whether got is want (the bounding set compared only when check_bounding). */
bool privileges_equal(const struct thread_privileges *want, const struct thread_privileges *got, bool check_bounding);

/* "net_admin,sys_admin" ("none" for an empty set), truncated to fit. */
const char *privileges_names(uint64_t set, char *buf, size_t len);

#endif
