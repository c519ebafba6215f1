/*
 * The heaps of an image, defined from its generated layout header
 * (docs/heap-layout-header.md): comb_heap_<name> for every [heap.NAME] of the
 * Drone.toml, their memory, and comb_heaps. The build puts the header for
 * this image's layout on the include path as "heap_layout.h"
 * (comb_add_example(... HEAP_LAYOUT <Drone.toml>), firmware/cmake).
 */
#include "comb/heap.h"

#include "heap_layout.h"

COMB_HEAP_DEFINE_ALL();
