/* Fault injection from the environment, for tests of the whole tool
 * (tests/cli_fault.sh, docs/reliability.md):
 *   CBCT_FAIL_ALLOC_AFTER=N   N tracked allocations succeed, the next fails
 *   CBCT_FAIL_WRITE_AFTER=N   N output operations (create, write, flush,
 *                             fsync, close, rename) succeed, the next fails
 *   CBCT_FAULT_COUNTS=1       print how many of each the run made, at exit
 * Unset, nothing changes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cbct.h"

/* A non-negative integer below LONG_MAX, or -1 when unset or malformed. */
static long env_count(const char *name)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || *end || n < 0 || n == LONG_MAX) {
        fprintf(stderr, "cbct: ignoring %s='%s': expected an integer >= 0\n", name, text);
        return -1;
    }
    return n;
}

static void print_counts(void)
{
    fprintf(stderr, "cbct: fault counts: %llu tracked allocations, %llu output operations\n",
            (unsigned long long)cbct_mem_alloc_count(), (unsigned long long)cbct_io_op_count());
}

void cli_debug_faults_from_env(void)
{
    long n = env_count("CBCT_FAIL_ALLOC_AFTER");
    if (n >= 0)
        cbct_mem_fail_nth(n + 1);
    n = env_count("CBCT_FAIL_WRITE_AFTER");
    if (n >= 0)
        cbct_io_fail_nth(n + 1);
    if (env_count("CBCT_FAULT_COUNTS") > 0)
        atexit(print_counts);
}
