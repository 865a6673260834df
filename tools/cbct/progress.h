/* A progress bar on stderr for long library operations (cbct_set_progress).
 * It only draws when stderr is a terminal, the run is not --quiet, and the
 * task has been running for more than a second, so that pipes, logs and
 * quick commands stay clean. */
#ifndef CBCT_TOOL_PROGRESS_H
#define CBCT_TOOL_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
    int enabled;         /* stderr is a TTY and not --quiet */
    char task[48];       /* what the current task is called */
    double t_task_start; /* seconds (cbct_seconds) when the task began */
    double t_last_draw;  /* seconds of the last redraw */
    int line_drawn;      /* a bar is on the screen and must be cleared */
} cli_progress;

/* `enabled`: whether a bar may ever be drawn. */
void cli_progress_init(cli_progress *p, int enabled);
/* The cbct_progress_fn (user = the cli_progress). */
void cli_progress_update(const char *what, int64_t done, int64_t total, void *user);
/* Erases the bar if one is on the screen (before other output, at the end). */
void cli_progress_clear(cli_progress *p);

#endif
