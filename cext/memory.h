/*
 * Realtime-ready memory: the one allocator pair of the core.
 *
 * Everything the JACK thread touches is allocated here before the client
 * is activated: aligned to a cache line (or a page for large blocks), zeroed
 * so every page is faulted in now rather than in the process callback, and
 * locked into RAM when the system allows it.  jr_memory_free() is the only
 * way to release such a block.
 */
#pragma once
#include <stddef.h>

#define JR_CACHE_LINE 64

/* Returns NULL when the memory cannot be had.  *locked (if not NULL) tells
 * whether mlock() succeeded; failing to lock is not an error. */
void *jr_memory_alloc(size_t bytes, int *locked);
void jr_memory_free(void *block, size_t bytes, int locked);
