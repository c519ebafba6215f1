/*
 * heapwrap: firmware that keeps newlib's malloc, profiled with the link-time
 * wrapper (src/heap_wrap.c, -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,
 * --wrap=realloc): the same heap trace on port 31 as the pool allocator
 * emits, with caller addresses, so `comb heap report/generate` can size pools
 * for it before it moves to them. newlib's malloc takes its memory from _sbrk
 * below (a static arena).
 *
 * Workload: a linked list of variable-size nodes, a buffer grown with realloc,
 * zeroed tables from calloc, malloc(0), realloc(p, 0), one request too large
 * to succeed;
 * everything is freed at the end. Exit 0 when the host acknowledged
 * SESSION_END.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comb/board.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/session.h"

/* newlib's system call for its heap */
void *_sbrk(ptrdiff_t incr);
static uint8_t arena[24576] __attribute__((aligned(8)));
static size_t brk;

void *_sbrk(ptrdiff_t incr)
{
    if (incr < 0 ? (size_t)-incr > brk : (size_t)incr > sizeof arena - brk)
        return (void *)-1;
    void *old = &arena[brk];
    brk += (size_t)incr;
    return old;
}

struct node {
    struct node *next;
    uint32_t len;
    uint8_t data[];
};

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());

    uint32_t rng = 12345u, allocs = 0;
    struct node *list = NULL;
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    for (uint32_t i = 0; i < 300u; i++) {
        rng = rng * 1664525u + 1013904223u;
        uint32_t len = 4u + (rng >> 24) % 60u;
        struct node *n = malloc(sizeof *n + len);
        if (n != NULL) {
            n->len = len;
            memset(n->data, (int)i, len);
            n->next = list;
            list = n;
            allocs++;
        }
        if (i % 3u == 0u && list != NULL) { /* drop the newest node */
            struct node *d = list;
            list = d->next;
            free(d);
        }
        if (i % 10u == 0u) { /* the growing buffer */
            uint8_t *b = realloc(buf, buf_len + 40u);
            if (b != NULL) {
                memset(b + buf_len, 0x5A, 40u);
                buf = b;
                buf_len += 40u;
            }
        }
        if (i % 25u == 0u) {
            uint32_t *table = calloc(16u, sizeof *table);
            if (table != NULL && table[15] == 0u)
                free(table);
        }
    }
    void *zero = malloc(0);
    free(zero);
    void *huge = malloc(1u << 20); /* more than the arena: fails, traced */
    while (list != NULL) {
        struct node *d = list;
        list = d->next;
        free(d);
    }
    buf = realloc(buf, 0); /* newlib keeps a minimal block: traced as free + alloc of 0 */
    free(buf);
    comb_printf("heapwrap: %lu nodes, buffer %lu bytes, huge %s, arena used %lu\n", (unsigned long)allocs,
                (unsigned long)buf_len, huge == NULL ? "failed" : "?", (unsigned long)brk);
    return comb_session_end(5u * comb_board_ts_hz()) && huge == NULL ? 0 : 1;
}
