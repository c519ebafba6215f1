/*
 * The list under every fiber chain and the timer list: intrusive, singly
 * linked, newest first; pushed lock-free from any context (many producers),
 * walked and pruned by one owner (one consumer), a handler that is never
 * re-entered (a thread's interrupt, SysTick).
 *
 * WHY IT IS CORRECT (single core; everything that preempts is a handler that
 * runs to completion before the preempted code resumes):
 *   - A push writes only its own node's link (before publishing it) and the
 *     head (CAS from the value it linked to). Its CAS fails only when the head
 *     moved since it was read: it relinks and retries. Pushing is ABA-safe:
 *     whatever happened in between, the CAS succeeds only if the new node's
 *     link equals the current head.
 *   - After a node is published, only the owner writes its link (unlinking a
 *     successor); only the owner removes nodes. The interior of the list
 *     therefore never changes under the owner: it can read links without
 *     atomics, and a node it visited and kept stays the predecessor of the
 *     next one it visits.
 *   - Removing the first node visited in a walk (its predecessor is the head
 *     word) is a CAS of the head from the node to its successor. If it fails,
 *     producers pushed nodes in front of it since the walk began: the node's
 *     predecessor is among them, found by following links from the new head
 *     (bounded by those pushes), and unlinked with a plain store. The head
 *     CAS cannot succeed wrongly: the node is removed only by the owner, so
 *     the head can equal it again only if it never left the list, with the
 *     same successor (only the owner writes its link).
 *   - Nodes pushed during a walk sit before the first node visited and are
 *     seen by the next walk.
 * No interrupt masking: CAS is LDREX/STREX (a PRIMASK section of comb/port.h
 * on ARMv6-M); retries are bounded by the preemptions that touched the head.
 */
#ifndef COMB_MPSC_LIST_H
#define COMB_MPSC_LIST_H

#include <stddef.h>

typedef struct comb_mpsc_node {
    struct comb_mpsc_node *volatile next;
} comb_mpsc_node_t;

typedef struct comb_mpsc_list {
    comb_mpsc_node_t *volatile head; /* newest first, NULL = empty */
} comb_mpsc_list_t;

/* Push `node` (not on any list) at the head. Any context. */
void comb_mpsc_push(comb_mpsc_list_t *list, comb_mpsc_node_t *node);

/* Owner only: unlink `node`, whose predecessor in the current walk is `prev`
 * (NULL when `node` is the first node the walk visited). Returns the node that
 * now precedes node's successor, to pass as `prev` for it. */
comb_mpsc_node_t *comb_mpsc_unlink(comb_mpsc_list_t *list, comb_mpsc_node_t *prev, comb_mpsc_node_t *node);

/* Preemption points of the scheduler runtime (list, fiber walk, timers, pulse
 * streams) for the host unit tests (comb/port.h, comb_host_set_preempt_hook);
 * numbered apart from the transport's and the allocator's. */
enum comb_sched_preempt_point {
    COMB_PP_LIST_PUSH = 32,   /* push: link written, before the CAS on the head */
    COMB_PP_LIST_UNLINK_HEAD, /* unlink: before the CAS of the head past a node */
    COMB_PP_LIST_SEARCH,      /* unlink: the head CAS failed, before the search */
    COMB_PP_FIB_RESUMED,      /* walk: before calling a fiber */
    COMB_PP_FIB_RETURNED,     /* walk: a fiber returned, before it is kept or unlinked */
    COMB_PP_FIB_UNLINKED,     /* walk: a completed fiber unlinked, before its drop */
    COMB_PP_TIMER_FIRE,       /* tick: a timer expired, before its expiry is posted */
    COMB_PP_PULSE_SEND,       /* pulse send: count read, before the CAS */
    COMB_PP_PULSE_TAKE,       /* pulse take: count read, before the CAS */
};

#endif /* COMB_MPSC_LIST_H */
