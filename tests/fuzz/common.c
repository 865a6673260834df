/* Shared by the fuzz targets: the invariant checks (see fuzz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Test-harness state (never in the library): whether to abort, how many
 * invariants broke. */
static int abort_on_failure;
static long failures;

void cbct_fuzz_set_abort(int on) { abort_on_failure = on; }
long cbct_fuzz_failures(void) { return failures; }

void cbct_fuzz_fail(const char *target, const char *what)
{
    fprintf(stderr, "fuzz target %s: %s (last error: '%s')\n", target, what,
            cbct_last_error());
    failures++;
    if (abort_on_failure)
        abort();
}

void cbct_fuzz_check_status(const char *target, cbct_status s)
{
    if (s == CBCT_OK)
        return;
    if (s < CBCT_OK || s > CBCT_ERR_INTERNAL)
        cbct_fuzz_fail(target, "unknown status code");
    if (s == CBCT_ERR_INTERNAL)
        cbct_fuzz_fail(target, "CBCT_ERR_INTERNAL (a bug) on hostile input");
    if (!*cbct_last_error())
        cbct_fuzz_fail(target, "an error without a message");
}

void cbct_fuzz_check_memory(const char *target, size_t before)
{
    if (cbct_mem_current() != before)
        cbct_fuzz_fail(target, "tracked memory not freed");
}

char *cbct_fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return NULL;
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    return text;
}
