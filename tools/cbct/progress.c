/* The progress bar: one line on stderr, redrawn in place with '\r'. */
#include <stdio.h>
#include <string.h>

#include "cbct.h"
#include "progress.h"

/* A task shorter than this never shows a bar: it would only flicker. */
#define PROGRESS_DELAY_S 1.0
/* Redraw at most this often, so that frequent reports cost nothing. */
#define PROGRESS_REDRAW_S 0.1
/* Width of the bar in characters (fits an 80-column terminal with the text). */
#define PROGRESS_WIDTH 40

void cli_progress_init(cli_progress *p, int enabled)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
}

void cli_progress_clear(cli_progress *p)
{
    if (p->line_drawn) {
        fputs("\r\033[K", stderr); /* carriage return, erase to end of line */
        fflush(stderr);
        p->line_drawn = 0;
    }
}

static void draw(cli_progress *p, int64_t done, int64_t total, double now)
{
    double fraction = total > 0 ? (double)done / (double)total : 0;
    if (fraction > 1)
        fraction = 1;
    int filled = (int)(fraction * PROGRESS_WIDTH);
    char bar[PROGRESS_WIDTH + 1];
    for (int i = 0; i < PROGRESS_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[PROGRESS_WIDTH] = '\0';
    fprintf(stderr, "\r%-20.20s [%s] %3d%% %6.1f s", p->task, bar, (int)(fraction * 100),
            now - p->t_task_start);
    fflush(stderr);
    p->line_drawn = 1;
    p->t_last_draw = now;
}

static void update(cli_progress *p, const char *what, int64_t done, int64_t total)
{
    double now = cbct_seconds();
    if (!what)
        what = "working";
    /* A new task (or a task restarting at 0) restarts the clock. */
    if (strncmp(p->task, what, sizeof p->task - 1) != 0 || done <= 0) {
        cli_progress_clear(p);
        snprintf(p->task, sizeof p->task, "%s", what);
        p->t_task_start = now;
        p->t_last_draw = 0;
    }
    if (total > 0 && done >= total) {
        cli_progress_clear(p);
        p->task[0] = '\0';
        return;
    }
    if (!p->enabled || now - p->t_task_start <= PROGRESS_DELAY_S ||
        now - p->t_last_draw < PROGRESS_REDRAW_S)
        return;
    draw(p, done, total, now);
}

void cli_progress_update(const char *what, int64_t done, int64_t total, void *user)
{
    /* The library may report from inside a parallel region. */
#pragma omp critical(cbct_cli_progress)
    update((cli_progress *)user, what, done, total);
}
