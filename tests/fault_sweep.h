/* Fault-injection sweeps, as SQLite tests its library: a path is run once
 * to count its tracked allocations (or output operations), then once per
 * n with the n-th of them failing. Every failing run must return an error
 * with a message, give back every tracked byte, and leave its output
 * folder empty (no output, no temporary file); the run after the last n
 * succeeds again. Used by tests/test_fault_*.c. */
#ifndef CBCT_TESTS_FAULT_SWEEP_H
#define CBCT_TESTS_FAULT_SWEEP_H

#include <dirent.h>
#include <unistd.h>

#include "check.h"

/* Runs the path once, writing its outputs (if any) into `folder`; frees
 * what it allocated, whatever happens (as a careful caller does). */
typedef cbct_status (*fault_path_fn)(const char *folder, void *user);
/* Some paths recover from a failed allocation on purpose (an optional
 * scratch buffer: the projector then takes a slower loop). For those, a
 * run that succeeds although its fault fired must give the fault-free
 * result: this returns 1 when the last run's output is right. NULL: no
 * recovery allowed, a fault must give an error. */
typedef int (*fault_check_fn)(void *user);

typedef enum { FAULT_ALLOC = 0, FAULT_WRITE } fault_kind;

/* Sweeps longer than this many points are sampled evenly (the first 64 and
 * the last 64 always run), to keep each test to seconds. */
#define FAULT_MAX_POINTS 400

/* Entries of `folder` other than "." and ".."; removes them when `clean`. */
static inline int fault_folder_entries(const char *folder, int clean)
{
    int n = 0;
    DIR *d = opendir(folder);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (clean) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    return n;
}

static inline uint64_t fault_count(fault_kind kind)
{
    return kind == FAULT_ALLOC ? cbct_mem_alloc_count() : cbct_io_op_count();
}

static inline void fault_arm(fault_kind kind, long n)
{
    if (kind == FAULT_ALLOC)
        cbct_mem_fail_nth(n);
    else
        cbct_io_fail_nth(n);
}

/* Sweeps `path` for `kind` faults; `name` labels the messages. Returns the
 * number of points that failed cleanly (also printed). `expected` is the
 * status a failure must report (CBCT_ERR_MEMORY, CBCT_ERR_IO). */
static inline long fault_sweep(const char *name, fault_kind kind, fault_path_fn path,
                               fault_check_fn recovered_ok, void *user, cbct_status expected)
{
    double t0 = cbct_seconds();
    const char *kind_name = kind == FAULT_ALLOC ? "allocation" : "write";
    char folder[2048];
    snprintf(folder, sizeof folder, "%s/fault_%s", check_tmpdir(), name);
    mkdir(folder, 0755);
    fault_folder_entries(folder, 1);

    size_t bytes_before = cbct_mem_current();
    uint64_t count_before = fault_count(kind);
    cbct_status s = path(folder, user);
    uint64_t ops = fault_count(kind) - count_before;
    CHECK_MSG(s == CBCT_OK, "%s: the run without faults failed: %s", name, cbct_last_error());
    CHECK_MSG(cbct_mem_current() == bytes_before, "%s: the run without faults leaks", name);
    CHECK_MSG(ops > 0, "%s: no %s to fail", name, kind_name);
    fault_folder_entries(folder, 1);

    long clean = 0, points = 0, recovered = 0;
    for (uint64_t n = 1; n <= ops; n++) {
        /* Sampled sweep for long paths: the ends in full, every k-th between. */
        uint64_t step = ops > FAULT_MAX_POINTS ? ops / (FAULT_MAX_POINTS - 128) : 1;
        if (n > 64 && n + 64 <= ops && (n - 64) % step != 0)
            continue;
        points++;
        cbct_clear_error();
        uint64_t start = fault_count(kind);
        fault_arm(kind, (long)n);
        s = path(folder, user);
        fault_arm(kind, 0);
        int left = fault_folder_entries(folder, 1);
        /* Threads may order allocations differently: a run that made fewer
         * than n never met the fault, and proves nothing either way. */
        if (s == CBCT_OK && fault_count(kind) - start < n) {
            points--;
            continue;
        }
        size_t leaked = cbct_mem_current() - bytes_before;
        int ok = s == expected && *cbct_last_error() && leaked == 0 && left == 0;
        if (s == CBCT_OK && recovered_ok) {
            ok = recovered_ok(user) && leaked == 0;
            recovered += ok;
            clean -= ok; /* counted apart */
        }
        CHECK_MSG(ok, "%s: %s %llu of %llu failing: status %s (expected %s), message '%s', "
                  "%zu bytes not freed, %d files left", name, kind_name, (unsigned long long)n,
                  (unsigned long long)ops, cbct_status_name(s), cbct_status_name(expected),
                  cbct_last_error(), leaked, left);
        clean += ok;
    }
    /* And after the sweep, the path works again (no state left broken). */
    s = path(folder, user);
    CHECK_MSG(s == CBCT_OK, "%s: the run after the sweep failed: %s", name, cbct_last_error());
    fault_folder_entries(folder, 1);
    printf("%s: %llu %ss, %ld of %ld failure points clean errors, %ld recovered with the "
           "right result (%.2f s)\n", name, (unsigned long long)ops, kind_name, clean, points,
           recovered, cbct_seconds() - t0);
    return clean;
}

#endif
