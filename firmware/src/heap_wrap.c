/*
 * Heap trace for firmware that keeps newlib's malloc (comb/heap.h, "link-time
 * wrapper"): link this file and
 *
 *   -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc
 *
 * (comb_add_example(... HEAP_WRAP) adds both). Every call the application
 * makes to malloc/free/calloc/realloc then goes through __wrap_* here, which
 * calls newlib's function (__real_*) and emits the same port-31 events as the
 * pool allocator: heap_alloc / heap_free / heap_realloc / heap_resize (newlib
 * kept the block) / heap_fail, with the requested size and, with
 * COMB_HEAP_TRACE_CALLER=1, the caller's address. So an existing C firmware
 * can be profiled (comb heap report / generate) before moving to pools.
 *
 * Order: heap_alloc after newlib returned the block, heap_free before newlib
 * gets it back, as in the pool allocator. heap_realloc is emitted after
 * newlib's realloc returned (newlib is not reentrant: like newlib's malloc
 * itself, these wrappers are not for interrupt handlers unless the
 * application provides __malloc_lock/__malloc_unlock).
 * Only references from the objects being linked are wrapped: newlib's own
 * internal allocations (_malloc_r from stdio, strdup...) are not traced.
 * malloc(0): newlib returns a (unique) block; it is traced as an alloc of 0.
 */
#include <stddef.h>

#include "comb/trace.h"

#if COMB_HEAP_TRACE_CALLER
#define CALLER() __builtin_return_address(0)
#else
#define CALLER() NULL
#endif

void *__real_malloc(size_t size);
void __real_free(void *ptr);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_malloc(size_t size);
void __wrap_free(void *ptr);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);

static void *traced_alloc(void *p, size_t size, const void *caller)
{
    if (p != NULL)
        comb_trace_heap_alloc(p, size, caller);
    else
        comb_trace_heap_fail(size, caller);
    return p;
}

void *__wrap_malloc(size_t size)
{
    return traced_alloc(__real_malloc(size), size, CALLER());
}

void __wrap_free(void *ptr)
{
    if (ptr != NULL)
        comb_trace_heap_free(ptr, CALLER());
    __real_free(ptr);
}

void *__wrap_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        comb_trace_heap_fail(0xFFFFFFFFu, CALLER());
        return NULL;
    }
    return traced_alloc(__real_calloc(n, size), total, CALLER());
}

void *__wrap_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return traced_alloc(__real_realloc(NULL, size), size, CALLER());
    if (size == 0u) { /* newlib frees the block */
        comb_trace_heap_free(ptr, CALLER());
        void *q = __real_realloc(ptr, 0u);
        if (q != NULL) /* an implementation that returns a new minimal block */
            comb_trace_heap_alloc(q, 0u, CALLER());
        return q;
    }
    void *q = __real_realloc(ptr, size);
    if (q == NULL)
        comb_trace_heap_fail(size, CALLER()); /* ptr is untouched */
    else
        comb_trace_heap_realloc(ptr, q, size, CALLER()); /* heap_resize when q == ptr */
    return q;
}
