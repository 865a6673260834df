/* The command line of one run of a grid: `cbct recon CONFIG --point I -o
 * RESULTS/NAME`, under `mpirun -np RANKS --oversubscribe` when the point
 * asks for more than one rank (slurm_ntasks_per_node), or under `srun`
 * inside a SLURM job. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

void bench_run_init(const bench_plan *p, int point, int rep, bench_run *r)
{
    memset(r, 0, sizeof *r);
    r->point = point;
    r->rep = rep;
    if (p->repeat > 1)
        snprintf(r->name, sizeof r->name, "%s.r%d", p->grid.points[point].id, rep);
    else
        snprintf(r->name, sizeof r->name, "%s", p->grid.points[point].id);
    snprintf(r->dir, sizeof r->dir, "%s/%s", p->results, r->name);
}

/* Appends one argument (copied into store). */
static int add(char store[][BENCH_DIR_MAX], char **argv, int n, const char *arg)
{
    if (n >= BENCH_MAX_ARGS - 1)
        return n;
    snprintf(store[n], BENCH_DIR_MAX, "%s", arg);
    argv[n] = store[n];
    return n + 1;
}

int bench_run_argv(const bench_plan *p, const bench_run *r, char store[][BENCH_DIR_MAX],
                   char **argv)
{
    int n = 0;
    int64_t ranks = p->configs[r->point].slurm_ntasks_per_node;
    char number[32];
    if (strcmp(p->launcher, "srun") == 0) {
        n = add(store, argv, n, "srun"); /* ranks: the job's --ntasks-per-node */
    } else if (strcmp(p->launcher, "mpirun") == 0 && ranks > 1) {
        snprintf(number, sizeof number, "%lld", (long long)ranks);
        n = add(store, argv, n, p->mpirun);
        n = add(store, argv, n, "-np");
        n = add(store, argv, n, number);
        /* More ranks than cores is allowed: the grid, not the machine,
         * says how many ranks a point has. */
        n = add(store, argv, n, "--oversubscribe");
        if (geteuid() == 0) /* Open MPI refuses root without it (containers, CI) */
            n = add(store, argv, n, "--allow-run-as-root");
    }
    n = add(store, argv, n, p->self);
    n = add(store, argv, n, "recon");
    n = add(store, argv, n, p->config);
    n = add(store, argv, n, "--point");
    snprintf(number, sizeof number, "%d", r->point);
    n = add(store, argv, n, number);
    n = add(store, argv, n, "-o");
    n = add(store, argv, n, r->dir);
    for (int i = 0; i < p->n_sets; i++) {
        n = add(store, argv, n, "--set");
        n = add(store, argv, n, p->sets[i]);
    }
    if (p->mem) {
        n = add(store, argv, n, "--mem");
        n = add(store, argv, n, p->mem);
    }
    if (p->threads) {
        n = add(store, argv, n, "--threads");
        n = add(store, argv, n, p->threads);
    }
    argv[n] = NULL;
    return n;
}

/* Characters that need no quoting in a POSIX shell word. */
static int plain_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "_-+=./:,@%",
                    *s))
            return 0;
    return 1;
}

void bench_quote_argv(char *const *argv, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; argv[i] && n + 1 < cap; i++) {
        if (i)
            out[n++] = ' ';
        int plain = plain_word(argv[i]);
        if (!plain && n + 1 < cap)
            out[n++] = '\'';
        for (const char *c = argv[i]; *c && n + 5 < cap; c++) {
            if (*c == '\'') { /* 'it'\''s' */
                memcpy(out + n, "'\\''", 4);
                n += 4;
            } else {
                out[n++] = *c;
            }
        }
        if (!plain && n + 1 < cap)
            out[n++] = '\'';
        out[n] = 0;
    }
}
