#include "comb/heap_layout.h"

#include <stdlib.h>
#include <string.h>

#include "comb/size_string.h"

uint64_t comb_layout_bytes(const comb_heap_layout *l)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < l->npools; i++)
        sum += (uint64_t)l->pools[i].block * l->pools[i].capacity;
    return sum;
}

void comb_layout_sort(comb_heap_layout *l)
{
    /* insertion sort: stable, and layouts are short */
    for (unsigned i = 1; i < l->npools; i++) {
        comb_pool p = l->pools[i];
        unsigned j = i;
        while (j > 0 && l->pools[j - 1].block > p.block) {
            l->pools[j] = l->pools[j - 1];
            j--;
        }
        l->pools[j] = p;
    }
}

int comb_layout_copy(comb_heap_layout *dst, const comb_heap_layout *src)
{
    *dst = *src;
    dst->pools = NULL;
    if (src->npools) {
        dst->pools = malloc(src->npools * sizeof *dst->pools);
        if (!dst->pools) {
            dst->npools = 0;
            return -1;
        }
        memcpy(dst->pools, src->pools, src->npools * sizeof *dst->pools);
    }
    return 0;
}

void comb_layout_free(comb_heap_layout *l)
{
    free(l->pools);
    l->pools = NULL;
    l->npools = 0;
}

void comb_layout_render_toml(const comb_heap_layout *l, comb_strbuf *out)
{
    comb_heap_layout s;
    if (comb_layout_copy(&s, l)) {
        out->oom = true;
        return;
    }
    comb_layout_sort(&s);
    char buf[COMB_SIZE_STRING_MAX];
    uint64_t sum = comb_layout_bytes(&s);
    comb_sb_printf(out, "[heap.%s]\n", s.name);
    comb_sb_printf(out, "size = \"%s\"\n", comb_size_format(sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum, buf));
    comb_sb_puts(out, "pools = [\n");
    for (unsigned i = 0; i < s.npools; i++)
        if (s.pools[i].capacity)
            comb_sb_printf(out, "    { block = \"%s\", capacity = %u },\n", comb_size_format(s.pools[i].block, buf),
                           (unsigned)s.pools[i].capacity);
    comb_sb_puts(out, "]\n");
    comb_layout_free(&s);
}
