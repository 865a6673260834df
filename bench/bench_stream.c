/* The machine's limits for the roofline notes of docs/performance.md:
 *   copy and triad bandwidth (STREAM's kernels, float32 arrays much larger
 *   than the caches; bytes counted as STREAM does: 2 and 3 arrays per
 *   element, write-allocate traffic not counted);
 *   gather rate: random float loads from a table the size of one detector
 *   view (L2-resident), the access pattern of a voxel-driven
 *   back-projection, in loaded elements per second.
 * Prints JSON; each figure is the best of --repeat runs, as STREAM reports,
 * per wall second and per CPU second times the thread count (the rate while
 * the threads hold whole cores: on a shared machine the wall rate falls with
 * the load, the CPU-time rate much less).
 *
 * Usage: bench_stream [--mib M] [--table-kib K] [--threads T] [--repeat R] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cbct.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#ifdef __AVX512F__
#define GATHER_KIND "avx512 vgatherdps"
#else
#define GATHER_KIND "scalar loads"
#endif
#define HASH_MULTIPLIER 2654435761u /* Knuth's multiplicative hash: spreads i over the table */
#define HASH_SHIFT 7                /* drop the low bits, which repeat with short periods */

typedef struct stream_opts {
    int64_t mib, table_kib;
    int threads, repeat;
} stream_opts;

static int parse_args(int argc, char **argv, stream_opts *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *arg = argv[i], *value = argv[i + 1];
        if (!strcmp(arg, "--mib"))
            o->mib = atoll(value);
        else if (!strcmp(arg, "--table-kib"))
            o->table_kib = atoll(value);
        else if (!strcmp(arg, "--threads"))
            o->threads = atoi(value);
        else if (!strcmp(arg, "--repeat"))
            o->repeat = atoi(value);
        else {
            fprintf(stderr, "bench_stream: unknown option %s\n", arg);
            return 0;
        }
    }
    if (argc % 2 == 0) {
        fprintf(stderr, "bench_stream: %s needs a value\n", argv[argc - 1]);
        return 0;
    }
    if (o->mib <= 0 || o->table_kib <= 0 || o->threads <= 0 || o->repeat <= 0) {
        fprintf(stderr, "bench_stream: every option must be positive\n");
        return 0;
    }
    return 1;
}

/* CPU seconds of the process, all threads. */
static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/* Best wall and CPU seconds of a kernel over the repeats. */
typedef struct best_time {
    double wall, cpu;
    double wall0, cpu0;
} best_time;

static void timer_start(best_time *b)
{
    b->wall0 = cbct_seconds();
    b->cpu0 = cpu_seconds();
}

static void timer_stop(best_time *b)
{
    double wall = cbct_seconds() - b->wall0, cpu = cpu_seconds() - b->cpu0;
    b->wall = wall < b->wall ? wall : b->wall;
    b->cpu = cpu < b->cpu ? cpu : b->cpu;
}

/* Sum of n table values at hashed indices: with AVX-512, 16 lanes per
 * vgatherdps (what a vectorised back-projection issues), else scalar loads. */
static double gather_sum(const float *table, uint32_t mask, int64_t n, int threads)
{
    double total = 0;
#ifdef __AVX512F__
    int64_t n16 = n / 16 * 16;
#pragma omp parallel reduction(+ : total) num_threads(threads)
    {
        /* A vector accumulator per thread: no reduction chain per gather. */
        __m512 acc = _mm512_setzero_ps();
        const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                14, 15);
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n16; i += 16) {
            __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int)i), lanes);
            idx = _mm512_mullo_epi32(idx, _mm512_set1_epi32((int)HASH_MULTIPLIER));
            idx = _mm512_and_si512(_mm512_srli_epi32(idx, HASH_SHIFT),
                                   _mm512_set1_epi32((int)mask));
            acc = _mm512_add_ps(acc, _mm512_i32gather_ps(idx, table, 4));
        }
        total += _mm512_reduce_add_ps(acc);
    }
#else
#pragma omp parallel for schedule(static) reduction(+ : total) num_threads(threads)
    for (int64_t i = 0; i < n; i++)
        total += table[((uint32_t)i * HASH_MULTIPLIER >> HASH_SHIFT) & mask];
#endif
    return total;
}

int main(int argc, char **argv)
{
    /* 256 MiB per array: far beyond any L3 of the machines we bench on. */
    stream_opts o = {.mib = 256, .table_kib = 400, .threads = 2, .repeat = 5};
    if (!parse_args(argc, argv, &o))
        return 2;
    cbct_set_threads(o.threads);
    int64_t n = o.mib * 1024 * 1024 / (int64_t)sizeof(float);
    int64_t n_table = o.table_kib * 1024 / (int64_t)sizeof(float);
    float *a = cbct_alloc((size_t)n * sizeof(float), "stream a");
    float *b = cbct_alloc((size_t)n * sizeof(float), "stream b");
    float *c = cbct_alloc((size_t)n * sizeof(float), "stream c");
    float *table = cbct_alloc((size_t)n_table * sizeof(float), "gather table");
    if (!a || !b || !c || !table) {
        fprintf(stderr, "bench_stream: %s\n", cbct_last_error());
        return 1;
    }
    /* First touch by the threads that use the pages. */
#pragma omp parallel for schedule(static) num_threads(o.threads)
    for (int64_t i = 0; i < n; i++) {
        a[i] = 1.0f;
        b[i] = 2.0f;
        c[i] = 0.0f;
    }
    for (int64_t i = 0; i < n_table; i++)
        table[i] = (float)(i % 7);
    best_time copy = {1e300, 1e300, 0, 0}, triad = copy, gather = copy;
    const float scalar = 3.0f;
    for (int r = 0; r < o.repeat; r++) {
        timer_start(&copy);
#pragma omp parallel for schedule(static) num_threads(o.threads)
        for (int64_t i = 0; i < n; i++)
            c[i] = a[i];
        timer_stop(&copy);
        timer_start(&triad);
#pragma omp parallel for schedule(static) num_threads(o.threads)
        for (int64_t i = 0; i < n; i++)
            a[i] = b[i] + scalar * c[i];
        timer_stop(&triad);
    }
    /* Gathers: indices from a multiplicative hash of the loop counter (no
     * index array to stream), masked into the table (a power of two). */
    uint32_t mask = 1;
    while ((int64_t)mask * 2 <= n_table)
        mask *= 2;
    mask -= 1;
    double sum = 0;
    for (int r = 0; r < o.repeat; r++) {
        timer_start(&gather);
        sum += gather_sum(table, mask, n, o.threads);
        timer_stop(&gather);
    }
    const double gb = 1e9, copy_bytes = 2.0 * (double)n * sizeof(float),
                 triad_bytes = 3.0 * (double)n * sizeof(float), t = o.threads;
    printf("{\"threads\": %d, \"array_mib\": %lld,\n"
           " \"copy_gbps\": %.1f, \"copy_gbps_per_cpu\": %.1f,\n"
           " \"triad_gbps\": %.1f, \"triad_gbps_per_cpu\": %.1f,\n"
           " \"gather_table_kib\": %lld, \"gather\": \"%s\",\n"
           " \"gather_gelems\": %.2f, \"gather_gelems_per_cpu\": %.2f, \"checksum\": %.0f}\n",
           o.threads, (long long)o.mib, copy_bytes / copy.wall / gb,
           copy_bytes * t / copy.cpu / gb, triad_bytes / triad.wall / gb,
           triad_bytes * t / triad.cpu / gb, (long long)o.table_kib, GATHER_KIND,
           (double)n / gather.wall / gb, (double)n * t / gather.cpu / gb, sum);
    cbct_free(a);
    cbct_free(b);
    cbct_free(c);
    cbct_free(table);
    return 0;
}
