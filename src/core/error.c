/* Error messages recorded where the error is detected, one per thread. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cbct/core.h"

/* Long enough for a path, a value and what was expected. */
#define CBCT_ERROR_MAX 1024

static _Thread_local char last_message[CBCT_ERROR_MAX];
static _Thread_local cbct_status last_code = CBCT_OK;

cbct_status cbct_error(cbct_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

cbct_status cbct_error_prefix(cbct_status code, const char *fmt, ...)
{
    char prefix[CBCT_ERROR_MAX];
    char old[CBCT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_message, sizeof old);
    /* Truncation of an over-long message is acceptable: keep the start. */
    size_t used = strlen(prefix);
    if (used > CBCT_ERROR_MAX - 3)
        used = CBCT_ERROR_MAX - 3;
    memcpy(last_message, prefix, used);
    memcpy(last_message + used, ": ", 2);
    size_t room = CBCT_ERROR_MAX - used - 2;
    size_t old_len = strnlen(old, room - 1);
    memcpy(last_message + used + 2, old, old_len);
    last_message[used + 2 + old_len] = '\0';
    last_code = code;
    return code;
}

const char *cbct_last_error(void) { return last_message; }

cbct_status cbct_last_status(void) { return last_code; }

void cbct_clear_error(void)
{
    last_message[0] = '\0';
    last_code = CBCT_OK;
}

const char *cbct_status_name(cbct_status code)
{
    switch (code) {
    case CBCT_OK: return "ok";
    case CBCT_ERR_ARG: return "invalid argument";
    case CBCT_ERR_IO: return "input/output error";
    case CBCT_ERR_FORMAT: return "bad file format";
    case CBCT_ERR_MEMORY: return "out of memory";
    case CBCT_ERR_GEOMETRY: return "bad geometry";
    case CBCT_ERR_NUMERIC: return "non-finite value";
    case CBCT_ERR_INTERNAL: return "internal error";
    case CBCT_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}
