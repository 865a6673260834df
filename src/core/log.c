/* The log and progress hooks: the only process-wide state besides the
 * allocator's counters. The library never prints by itself. */
#include <stdarg.h>
#include <stdio.h>

#include "cbct/core.h"

static cbct_log_fn log_fn;
static void *log_user;
static cbct_log_level log_min = CBCT_LOG_INFO;

static cbct_progress_fn progress_fn;
static void *progress_user;

void cbct_set_log(cbct_log_fn fn, void *user, cbct_log_level min_level)
{
    log_fn = fn;
    log_user = user;
    log_min = min_level;
}

void cbct_log(cbct_log_level level, const char *fmt, ...)
{
    if (!log_fn || level < log_min)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_fn(level, message, log_user);
}

void cbct_set_progress(cbct_progress_fn fn, void *user)
{
    progress_fn = fn;
    progress_user = user;
}

void cbct_progress(const char *what, int64_t done, int64_t total)
{
    if (progress_fn)
        progress_fn(what, done, total, progress_user);
}
