/* Fibers from the pool allocator (comb_fib_alloc in comb/fiber.h). Apart from
 * fiber.c so that an image links the allocator only when it uses this. */
#include <string.h>

#include "comb/fiber.h"
#include "comb/heap.h"

comb_fib_t *comb_fib_alloc(struct comb_heap *heap, size_t size, comb_fib_fn fn, comb_fib_drop_fn drop)
{
    if (size < sizeof(comb_fib_t))
        size = sizeof(comb_fib_t);
    comb_fib_t *fib = comb_heap_alloc(heap, size);
    if (fib == NULL)
        return NULL;
    memset(fib, 0, size);
    comb_fib_init(fib, fn, drop);
    fib->heap = heap;
    comb_fib_pool_free = comb_heap_free;
    return fib;
}
