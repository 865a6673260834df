/* The state a solver hands to its callback after each iteration, and takes
 * back to resume: named vectors and scalars, looked up by name so that a
 * checkpoint of another solver or another problem is refused clearly. */
#include <string.h>

#include "solvers/solver_internal.h"

static cbct_status check_name(const char *name, const char *what)
{
    if (!name || !*name || strlen(name) >= CBCT_STATE_NAME_MAX)
        return cbct_error(CBCT_ERR_ARG, "solver state: %s name '%s' must have 1 to %d characters",
                          what, name ? name : "(null)", CBCT_STATE_NAME_MAX - 1);
    return CBCT_OK;
}

cbct_status cbct_solver_state_add_vector(cbct_solver_state *st, const char *name, float *data,
                                         int64_t numel)
{
    cbct_status s = check_name(name, "vector");
    if (s)
        return s;
    if (st->n_vectors == CBCT_STATE_MAX_VECTORS)
        return cbct_error(CBCT_ERR_ARG, "solver state: no room for vector '%s' (at most %d)",
                          name, CBCT_STATE_MAX_VECTORS);
    int i = st->n_vectors++;
    strcpy(st->vector_name[i], name);
    st->vector[i] = data;
    st->vector_numel[i] = numel;
    return CBCT_OK;
}

cbct_status cbct_solver_state_add_scalar(cbct_solver_state *st, const char *name, double value)
{
    cbct_status s = check_name(name, "scalar");
    if (s)
        return s;
    if (st->n_scalars == CBCT_STATE_MAX_SCALARS)
        return cbct_error(CBCT_ERR_ARG, "solver state: no room for scalar '%s' (at most %d)",
                          name, CBCT_STATE_MAX_SCALARS);
    int i = st->n_scalars++;
    strcpy(st->scalar_name[i], name);
    st->scalar[i] = value;
    return CBCT_OK;
}

cbct_status cbct_solver_state_vector(const cbct_solver_state *st, const char *name,
                                     int64_t numel, const float **out)
{
    for (int i = 0; i < st->n_vectors; i++) {
        if (strcmp(st->vector_name[i], name) != 0)
            continue;
        if (st->vector_numel[i] != numel)
            return cbct_error(CBCT_ERR_ARG,
                              "checkpoint of %s: vector '%s' has %lld values, this problem "
                              "needs %lld (a checkpoint of another problem?)",
                              st->solver, name, (long long)st->vector_numel[i],
                              (long long)numel);
        *out = st->vector[i];
        return CBCT_OK;
    }
    return cbct_error(CBCT_ERR_ARG, "checkpoint of %s has no vector '%s'", st->solver, name);
}

cbct_status cbct_solver_state_scalar(const cbct_solver_state *st, const char *name, double *out)
{
    for (int i = 0; i < st->n_scalars; i++)
        if (strcmp(st->scalar_name[i], name) == 0) {
            *out = st->scalar[i];
            return CBCT_OK;
        }
    return cbct_error(CBCT_ERR_ARG, "checkpoint of %s has no scalar '%s'", st->solver, name);
}

void cbct_solver_state_free(cbct_solver_state *st)
{
    if (!st || !st->owns_vectors)
        return;
    for (int i = 0; i < st->n_vectors; i++) {
        cbct_free(st->vector[i]);
        st->vector[i] = NULL;
    }
    st->owns_vectors = 0;
}

cbct_status cbct_solver_resume(const cbct_solver_opts *opts, const char *solver,
                               const cbct_operator *op, float *x, int *first_iteration)
{
    *first_iteration = 1;
    const cbct_solver_state *st = opts ? opts->resume : NULL;
    if (!st)
        return CBCT_OK;
    if (strcmp(st->solver, solver) != 0)
        return cbct_error(CBCT_ERR_ARG, "cannot resume %s from a checkpoint of %s", solver,
                          st->solver);
    const float *saved = NULL;
    int64_t n = cbct_operator_volume_numel(op);
    cbct_status s = cbct_solver_state_vector(st, "x", n, &saved);
    if (s)
        return s;
    memcpy(x, saved, (size_t)n * sizeof(float));
    *first_iteration = st->iteration + 1;
    return CBCT_OK;
}
