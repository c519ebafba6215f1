/*
 * The malloc-style API on the main heap (comb/heap.h): comb_alloc, comb_free,
 * comb_realloc, comb_calloc. comb_heap_main comes from the layout
 * (src/heap_layout.c). A separate file so that images and tests that do not
 * define a main heap can still link the allocator core. Each is a tail call
 * (3 instructions); with COMB_HEAP_TRACE_CALLER the return address is passed on.
 */
#include "comb/heap.h"

#if COMB_HEAP_TRACE_CALLER
#define CALLER() __builtin_return_address(0)

void *comb_alloc(size_t size)
{
    return comb_heap_alloc_caller(&comb_heap_main, size, CALLER());
}

void comb_free(void *ptr)
{
    comb_heap_free_caller(&comb_heap_main, ptr, CALLER());
}

void *comb_realloc(void *ptr, size_t size)
{
    return comb_heap_realloc_caller(&comb_heap_main, ptr, size, CALLER());
}

void *comb_calloc(size_t n, size_t size)
{
    return comb_heap_calloc_caller(&comb_heap_main, n, size, CALLER());
}
#else
void *comb_alloc(size_t size)
{
    return comb_heap_alloc(&comb_heap_main, size);
}

void comb_free(void *ptr)
{
    comb_heap_free(&comb_heap_main, ptr);
}

void *comb_realloc(void *ptr, size_t size)
{
    return comb_heap_realloc(&comb_heap_main, ptr, size);
}

void *comb_calloc(size_t n, size_t size)
{
    return comb_heap_calloc(&comb_heap_main, n, size);
}
#endif
