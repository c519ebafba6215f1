/* Multi-producer, single-owner list (comb/mpsc_list.h: the argument). */
#include "comb/mpsc_list.h"

#include "comb/port.h"
#include "comb/port_sched.h"

void comb_mpsc_push(comb_mpsc_list_t *list, comb_mpsc_node_t *node)
{
    comb_mpsc_node_t *old;
    /* Repeats only when a handler that preempted us moved the head. */
    do {
        old = list->head;
        node->next = old;
        COMB_PREEMPT_POINT(COMB_PP_LIST_PUSH);
    } while (!comb_port_cas_ptr((void *volatile *)&list->head, old, node));
}

comb_mpsc_node_t *comb_mpsc_unlink(comb_mpsc_list_t *list, comb_mpsc_node_t *prev, comb_mpsc_node_t *node)
{
    comb_mpsc_node_t *next = node->next;
    if (prev != NULL) {
        prev->next = next;
        return prev;
    }
    COMB_PREEMPT_POINT(COMB_PP_LIST_UNLINK_HEAD);
    if (comb_port_cas_ptr((void *volatile *)&list->head, node, next))
        return NULL;
    COMB_PREEMPT_POINT(COMB_PP_LIST_SEARCH);
    /* Pushed in front of `node` since the walk began. Bound: the number of
     * those pushes (each preempted the owner). */
    comb_mpsc_node_t *p = list->head;
    while (p->next != node)
        p = p->next;
    p->next = next;
    return p;
}
