/*
 * Lock-free single-producer/single-consumer ring of fixed-size elements.
 *
 * The recorder uses it twice: for frames (an element is one interleaved
 * frame of float32 samples, so a frame can never be torn or its channels
 * rotated) and for overflow records.
 *
 * Positions are free-running 64-bit element counts, never wrapped: the
 * slot of position p is p & mask, the fill is write - read.  They double as
 * absolute stream positions for the consumer (gaps, cuts, pre-roll), and
 * 2^64 frames outlast any recording.
 *
 * Memory ordering, the whole argument:
 *   - the producer fills slots, then publishes them with a release store of
 *     write_position; the consumer's acquire load of write_position makes
 *     those slot contents visible before it reads them;
 *   - the consumer reads slots, then frees them with a release store of
 *     read_position; the producer's acquire load of read_position orders
 *     its later overwrite of those slots after the consumer's reads;
 *   - each side reads its own position relaxed: only it ever stores it.
 */
#include "jackrec_core.h"
#include "memory.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free for the realtime thread");

struct jr_ring {
    /* Written by the producer only; own cache line so the consumer's
     * stores do not bounce it. */
    alignas(JR_CACHE_LINE) _Atomic uint64_t write_position;
    /* Written by the consumer only. */
    alignas(JR_CACHE_LINE) _Atomic uint64_t read_position;
    /* Read-only after jr_ring_new(). */
    alignas(JR_CACHE_LINE) unsigned char *data;
    uint64_t capacity; /* a power of two */
    uint64_t mask;
    size_t element_size;
    size_t data_bytes;
    int data_locked;
};

static uint64_t round_up_pow2(uint64_t n)
{
    uint64_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

jr_ring_t *jr_ring_new(uint64_t min_capacity, size_t element_size, int *locked)
{
    if (locked)
        *locked = 0;
    if (min_capacity == 0 || element_size == 0 || min_capacity > (UINT64_C(1) << 40))
        return NULL;
    uint64_t capacity = round_up_pow2(min_capacity);
    if (capacity > SIZE_MAX / element_size)
        return NULL;

    jr_ring_t *ring = jr_memory_alloc(sizeof *ring, NULL);
    if (!ring)
        return NULL;
    ring->capacity = capacity;
    ring->mask = capacity - 1;
    ring->element_size = element_size;
    ring->data_bytes = (size_t)capacity * element_size;
    ring->data = jr_memory_alloc(ring->data_bytes, &ring->data_locked);
    if (!ring->data) {
        jr_memory_free(ring, sizeof *ring, 0);
        return NULL;
    }
    atomic_init(&ring->write_position, 0);
    atomic_init(&ring->read_position, 0);
    if (locked)
        *locked = ring->data_locked;
    return ring;
}

void jr_ring_free(jr_ring_t *ring)
{
    if (!ring)
        return;
    jr_memory_free(ring->data, ring->data_bytes, ring->data_locked);
    jr_memory_free(ring, sizeof *ring, 0);
}

uint64_t jr_ring_capacity(const jr_ring_t *ring) { return ring->capacity; }

size_t jr_ring_element_size(const jr_ring_t *ring) { return ring->element_size; }

/* Splits `count` elements starting at position `start` into at most two
 * contiguous regions of the buffer. */
static void fill_regions(const jr_ring_t *ring, uint64_t start, uint64_t count,
                         jr_regions_t *regions)
{
    uint64_t offset = start & ring->mask;
    uint64_t first = ring->capacity - offset;
    if (first > count)
        first = count;
    regions->data[0] = ring->data + offset * ring->element_size;
    regions->count[0] = first;
    regions->data[1] = ring->data;
    regions->count[1] = count - first;
}

/* ---- consumer side ---- */

uint64_t jr_ring_read_space(const jr_ring_t *ring)
{
    uint64_t read = atomic_load_explicit(&ring->read_position, memory_order_relaxed);
    /* acquire: pairs with the producer's release in jr_ring_write_advance */
    uint64_t write = atomic_load_explicit(&ring->write_position, memory_order_acquire);
    return write - read;
}

uint64_t jr_ring_read_position(const jr_ring_t *ring)
{
    return atomic_load_explicit(&ring->read_position, memory_order_relaxed);
}

uint64_t jr_ring_read_regions(const jr_ring_t *ring, uint64_t max_count,
                              jr_regions_t *regions)
{
    uint64_t read = atomic_load_explicit(&ring->read_position, memory_order_relaxed);
    uint64_t count = jr_ring_read_space(ring);
    if (count > max_count)
        count = max_count;
    fill_regions(ring, read, count, regions);
    return count;
}

void jr_ring_read_advance(jr_ring_t *ring, uint64_t count)
{
    uint64_t read = atomic_load_explicit(&ring->read_position, memory_order_relaxed);
    /* release: our reads of these slots happen before the producer may
     * overwrite them (pairs with the acquire in jr_ring_write_space) */
    atomic_store_explicit(&ring->read_position, read + count, memory_order_release);
}

/* ---- producer side ---- */

uint64_t jr_ring_write_space(const jr_ring_t *ring)
{
    uint64_t write = atomic_load_explicit(&ring->write_position, memory_order_relaxed);
    /* acquire: pairs with the consumer's release in jr_ring_read_advance */
    uint64_t read = atomic_load_explicit(&ring->read_position, memory_order_acquire);
    return ring->capacity - (write - read);
}

uint64_t jr_ring_write_position(const jr_ring_t *ring)
{
    return atomic_load_explicit(&ring->write_position, memory_order_relaxed);
}

uint64_t jr_ring_write_regions(const jr_ring_t *ring, uint64_t max_count,
                               jr_regions_t *regions)
{
    uint64_t write = atomic_load_explicit(&ring->write_position, memory_order_relaxed);
    uint64_t count = jr_ring_write_space(ring);
    if (count > max_count)
        count = max_count;
    fill_regions(ring, write, count, regions);
    return count;
}

void jr_ring_write_advance(jr_ring_t *ring, uint64_t count)
{
    uint64_t write = atomic_load_explicit(&ring->write_position, memory_order_relaxed);
    /* release: the slot contents written before this store are visible to
     * a consumer that acquires the new position */
    atomic_store_explicit(&ring->write_position, write + count, memory_order_release);
}

int jr_ring_write(jr_ring_t *ring, const void *src, uint64_t count)
{
    jr_regions_t regions;
    if (jr_ring_write_regions(ring, count, &regions) < count)
        return 0;
    const unsigned char *bytes = src;
    size_t first = (size_t)regions.count[0] * ring->element_size;
    memcpy(regions.data[0], bytes, first);
    memcpy(regions.data[1], bytes + first, (size_t)regions.count[1] * ring->element_size);
    jr_ring_write_advance(ring, count);
    return 1;
}
