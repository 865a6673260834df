/* The tracked allocator: every large buffer is counted, so that peak memory
 * is a measured result and a budget can refuse an allocation with a clear
 * message instead of letting the machine swap or the OOM killer strike. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cbct/core.h"

/* Alignment of every block (one AVX-512 register, one cache line). The size
 * is kept in a header of the same size in front of the block. */
#define CBCT_ALIGN 64

static atomic_size_t mem_current;
static atomic_size_t mem_peak;
static atomic_size_t mem_budget;   /* 0: none */
static atomic_long fail_countdown; /* fault injection, 0: off */
static atomic_ulong alloc_calls;   /* cbct_alloc calls, for fault-injection sweeps */

static void update_peak(size_t now)
{
    size_t peak = atomic_load(&mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now)) {
    }
}

void *cbct_alloc(size_t bytes, const char *what)
{
    char a[32], b[32], c[32], d[32];
    if (!what)
        what = "buffer";
    atomic_fetch_add(&alloc_calls, 1);
    long countdown = atomic_load(&fail_countdown);
    if (countdown > 0 && atomic_fetch_sub(&fail_countdown, 1) == 1) {
        cbct_error(CBCT_ERR_MEMORY, "cannot allocate %s for %s: injected allocation failure",
                   cbct_format_size(bytes, a, sizeof a), what);
        return NULL;
    }
    if (bytes > SIZE_MAX - 2 * CBCT_ALIGN) {
        cbct_error(CBCT_ERR_MEMORY, "cannot allocate %zu bytes for %s: size overflows", bytes,
                   what);
        return NULL;
    }
    size_t total = bytes + CBCT_ALIGN;
    size_t now = atomic_fetch_add(&mem_current, total) + total;
    size_t budget = atomic_load(&mem_budget);
    if (budget && now > budget) {
        atomic_fetch_sub(&mem_current, total);
        size_t used = now - total;
        cbct_error(CBCT_ERR_MEMORY,
                   "memory budget exceeded: %s for %s does not fit (budget %s, in use %s, "
                   "%s left); raise --mem or use smaller chunks",
                   cbct_format_size(bytes, a, sizeof a), what,
                   cbct_format_size(budget, b, sizeof b), cbct_format_size(used, c, sizeof c),
                   cbct_format_size(budget > used ? budget - used : 0, d, sizeof d));
        return NULL;
    }
    /* aligned_alloc needs a size that is a multiple of the alignment. */
    size_t rounded = (total + CBCT_ALIGN - 1) / CBCT_ALIGN * CBCT_ALIGN;
    unsigned char *block = aligned_alloc(CBCT_ALIGN, rounded);
    if (!block) {
        atomic_fetch_sub(&mem_current, total);
        cbct_error(CBCT_ERR_MEMORY, "cannot allocate %s for %s: the system refused (%s)",
                   cbct_format_size(bytes, a, sizeof a), what, strerror(errno));
        return NULL;
    }
    memcpy(block, &total, sizeof total);
    update_peak(now);
    return block + CBCT_ALIGN;
}

void *cbct_calloc(size_t count, size_t size, const char *what)
{
    if (size && count > SIZE_MAX / size) {
        cbct_error(CBCT_ERR_MEMORY, "cannot allocate %zu x %zu bytes for %s: size overflows",
                   count, size, what ? what : "buffer");
        return NULL;
    }
    void *p = cbct_alloc(count * size, what);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void cbct_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *block = (unsigned char *)ptr - CBCT_ALIGN;
    size_t total;
    memcpy(&total, block, sizeof total);
    atomic_fetch_sub(&mem_current, total);
    free(block);
}

size_t cbct_mem_current(void) { return atomic_load(&mem_current); }
size_t cbct_mem_peak(void) { return atomic_load(&mem_peak); }
void cbct_mem_reset_peak(void) { atomic_store(&mem_peak, atomic_load(&mem_current)); }
void cbct_mem_set_budget(size_t bytes) { atomic_store(&mem_budget, bytes); }
size_t cbct_mem_budget(void) { return atomic_load(&mem_budget); }
void cbct_mem_fail_nth(long n) { atomic_store(&fail_countdown, n > 0 ? n : 0); }
uint64_t cbct_mem_alloc_count(void) { return atomic_load(&alloc_calls); }

size_t cbct_mem_available(void)
{
    size_t budget = cbct_mem_budget(), used = cbct_mem_current();
    if (!budget)
        return SIZE_MAX;
    return budget > used ? budget - used : 0;
}

size_t cbct_rss_peak_bytes(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return (size_t)usage.ru_maxrss * 1024; /* Linux reports KiB */
}
