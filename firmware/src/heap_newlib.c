/*
 * Optional newlib retarget (comb/heap.h): malloc, free, calloc, realloc and
 * their reentrant _r forms (which newlib itself calls, e.g. for stdio buffers
 * and strdup) are served by the pools of the main heap, traced like
 * comb_alloc. Link this file into an image that links newlib (-lc) and uses
 * the pool allocator (comb_add_example(... HEAP_LAYOUT ... HEAP_NEWLIB)); the
 * linker then never pulls newlib's own malloc.
 *
 * Semantics are the pools' (comb/heap.h): malloc(0) returns NULL, a request
 * larger than the largest block fails, realloc keeps the block when the new
 * size fits it. Unlike newlib's malloc these are callable from interrupts.
 * errno is not set on failure (this file does not depend on newlib's reent
 * layout). memalign/aligned_alloc: alignments up to 8 are what every block of
 * 8 bytes or more has already; larger alignments return NULL.
 */
#include <stddef.h>

#include "comb/heap.h"

#if COMB_HEAP_TRACE_CALLER
#define CALLER() __builtin_return_address(0)
#else
#define CALLER() NULL
#endif

struct _reent;

void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t n, size_t size);
void *realloc(void *ptr, size_t size);
void *memalign(size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
size_t malloc_usable_size(void *ptr);
void *_malloc_r(struct _reent *r, size_t size);
void _free_r(struct _reent *r, void *ptr);
void *_calloc_r(struct _reent *r, size_t n, size_t size);
void *_realloc_r(struct _reent *r, void *ptr, size_t size);
void *_memalign_r(struct _reent *r, size_t align, size_t size);
size_t _malloc_usable_size_r(struct _reent *r, void *ptr);

void *malloc(size_t size)
{
    return comb_heap_alloc_caller(&comb_heap_main, size, CALLER());
}

void free(void *ptr)
{
    comb_heap_free_caller(&comb_heap_main, ptr, CALLER());
}

void *calloc(size_t n, size_t size)
{
    return comb_heap_calloc_caller(&comb_heap_main, n, size, CALLER());
}

void *realloc(void *ptr, size_t size)
{
    return comb_heap_realloc_caller(&comb_heap_main, ptr, size, CALLER());
}

static void *aligned(size_t align, size_t size, const void *caller)
{
    if (align > 8u || (align & (align - 1u)) != 0u)
        return NULL;
    if (align > 4u && size < 8u && size != 0u)
        size = 8u; /* blocks of 8 bytes or more are 8-byte aligned */
    return comb_heap_alloc_caller(&comb_heap_main, size, caller);
}

void *memalign(size_t align, size_t size)
{
    return aligned(align, size, CALLER());
}

void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size, CALLER());
}

size_t malloc_usable_size(void *ptr)
{
    return ptr == NULL ? 0u : comb_heap_usable_size(&comb_heap_main, ptr);
}

void *_malloc_r(struct _reent *r, size_t size)
{
    (void)r;
    return comb_heap_alloc_caller(&comb_heap_main, size, CALLER());
}

void _free_r(struct _reent *r, void *ptr)
{
    (void)r;
    comb_heap_free_caller(&comb_heap_main, ptr, CALLER());
}

void *_calloc_r(struct _reent *r, size_t n, size_t size)
{
    (void)r;
    return comb_heap_calloc_caller(&comb_heap_main, n, size, CALLER());
}

void *_realloc_r(struct _reent *r, void *ptr, size_t size)
{
    (void)r;
    return comb_heap_realloc_caller(&comb_heap_main, ptr, size, CALLER());
}

void *_memalign_r(struct _reent *r, size_t align, size_t size)
{
    (void)r;
    return aligned(align, size, CALLER());
}

size_t _malloc_usable_size_r(struct _reent *r, void *ptr)
{
    (void)r;
    return malloc_usable_size(ptr);
}
