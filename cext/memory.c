#define _POSIX_C_SOURCE 200809L
#include "memory.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *jr_memory_alloc(size_t bytes, int *locked)
{
    if (locked)
        *locked = 0;
    if (bytes == 0)
        bytes = 1;
    long page = sysconf(_SC_PAGESIZE);
    size_t alignment = (page > 0 && bytes >= (size_t)page) ? (size_t)page
                                                           : JR_CACHE_LINE;
    void *block = NULL;
    if (posix_memalign(&block, alignment, bytes) != 0)
        return NULL;
    /* Writing every byte faults each page in now, so the process callback
     * never takes a page fault on first touch. */
    memset(block, 0, bytes);
    if (locked)
        *locked = mlock(block, bytes) == 0;
    return block;
}

void jr_memory_free(void *block, size_t bytes, int locked)
{
    if (!block)
        return;
    if (locked)
        munlock(block, bytes ? bytes : 1);
    /* posix_memalign() memory is released with free(). */
    free(block);
}
