/* Checkpoints of `cbct recon`: the solver's state (cbct_checkpoint_write)
 * plus what the tool needs to rebuild the same run and the same record:
 * the config file (name and hash), the --set overrides, the
 * initialisation and its metrics, and every iteration's statistics so far.
 * SIGINT / SIGTERM ask for a last checkpoint after the current iteration. */
#include <cjson/cJSON.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inputs.h"
#include "recon.h"

/* The one piece of process state of the tool: which signal asked to stop.
 * A signal handler can only set a flag. */
static volatile sig_atomic_t pending_signal;

static void on_signal(int signo)
{
    pending_signal = signo;
}

void recon_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int recon_signal_pending(void)
{
    return (int)pending_signal;
}

#define CONFIG_MAX_BYTES ((size_t)1 << 20) /* as the config loader's cap */

cbct_status recon_config_hash(const char *path, uint64_t *hash)
{
    char *text = NULL;
    size_t len = 0;
    cbct_status s = cbct_read_text_file(path, CONFIG_MAX_BYTES, &text, &len);
    if (s)
        return s;
    *hash = cbct_fnv1a(CBCT_FNV1A_OFFSET, text, len);
    free(text);
    return CBCT_OK;
}

cbct_status recon_add_iteration(recon_run *r, const cbct_iteration_stats *s)
{
    if (r->n_iters == r->cap_iters) {
        int cap = r->cap_iters ? 2 * r->cap_iters : 64;
        cbct_iteration_stats *grown = realloc(r->iters, (size_t)cap * sizeof *grown);
        if (!grown)
            return cbct_error(CBCT_ERR_MEMORY, "cannot record iteration %d", s->iteration);
        r->iters = grown;
        r->cap_iters = cap;
    }
    r->iters[r->n_iters] = *s;
    r->iters[r->n_iters].state = NULL; /* the solver's, valid during the callback only */
    r->n_iters++;
    return CBCT_OK;
}

/* ---- Writing ------------------------------------------------------------------ */

static char *extra_text(const recon_run *r)
{
    const recon_request *q = r->request;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "config", q->config_path);
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)q->config_hash);
    cJSON_AddStringToObject(o, "config_fnv1a", hash);
    cJSON_AddNumberToObject(o, "ranks", cbct_comm_size(r->comm));
    cJSON_AddNumberToObject(o, "point", q->point);
    cJSON *sets = cJSON_AddArrayToObject(o, "sets");
    for (int i = 0; i < q->n_sets; i++)
        cJSON_AddItemToArray(sets, cJSON_CreateString(q->sets[i]));
    cJSON *init = cJSON_AddObjectToObject(o, "init");
    cJSON_AddNumberToObject(init, "seconds", r->seconds_init);
    cJSON_AddNumberToObject(init, "psnr", r->init_psnr_db);
    cJSON_AddNumberToObject(init, "ssim", r->init_ssim);
    cJSON *its = cJSON_AddArrayToObject(o, "iterations");
    for (int i = 0; i < r->n_iters; i++)
        cJSON_AddItemToArray(its, recon_iteration_json(&r->iters[i]));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

cbct_status recon_checkpoint_save(const recon_run *r, const cbct_solver_state *state)
{
    cbct_solver_state st = {.iteration = 0};
    int64_t n = cbct_array_numel(r->init);
    cbct_status s = CBCT_OK;
    if (state) {
        st = *state;
    } else { /* before the first iteration: the solver starts from the init */
        snprintf(st.solver, sizeof st.solver, "%s", r->solver_name);
        s = cbct_solver_state_add_vector(&st, "x", r->init->data, n);
    }
    if (!s)
        s = cbct_solver_state_add_vector(&st, "init", r->init->data, n);
    if (!s)
        s = cli_make_folder(r->dir);
    char *extra = s ? NULL : extra_text(r);
    if (!s && !extra)
        s = cbct_error(CBCT_ERR_MEMORY, "'%s': cannot describe the run", r->checkpoint_path);
    if (!s)
        s = cbct_checkpoint_write(r->checkpoint_path, &st, extra);
    cJSON_free(extra);
    return s;
}

/* ---- Reading ------------------------------------------------------------------ */

static double number_or_nan(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cbct_iteration_stats iteration_from_json(const cJSON *o)
{
    cbct_iteration_stats s = {0};
    s.iteration = (int)number_or_nan(o, "iteration");
    s.psnr_db = number_or_nan(o, "psnr");
    s.ssim = number_or_nan(o, "ssim");
    s.relative_change = number_or_nan(o, "relative_change");
    s.residual_norm = number_or_nan(o, "residual_norm");
    s.normal_residual = number_or_nan(o, "normal_residual");
    s.seconds_gradient = number_or_nan(o, "seconds_gradient");
    s.seconds_denoiser = number_or_nan(o, "seconds_denoiser");
    s.seconds_communication = number_or_nan(o, "seconds_communication");
    s.seconds_total = number_or_nan(o, "seconds_total");
    s.mem_peak_bytes = (size_t)fmax(0.0, number_or_nan(o, "mem_peak_bytes"));
    s.rss_peak_bytes = (size_t)fmax(0.0, number_or_nan(o, "rss_peak_bytes"));
    return s;
}

static cbct_status parse_extra(const char *text, const char *path, recon_request *q,
                               recon_run *r)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(o, "config");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(o, "config_fnv1a");
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(o, "sets");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(o, "init");
    const cJSON *its = cJSON_GetObjectItemCaseSensitive(o, "iterations");
    cbct_status s = CBCT_OK;
    if (!cJSON_IsString(config) || strlen(config->valuestring) >= sizeof q->config_path ||
        !cJSON_IsString(hash) || !cJSON_IsArray(sets) ||
        cJSON_GetArraySize(sets) > RECON_MAX_SETS || !cJSON_IsObject(init) ||
        !cJSON_IsArray(its))
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s' was not written by cbct recon", path);
    if (!s) {
        snprintf(q->config_path, sizeof q->config_path, "%s", config->valuestring);
        q->config_hash = strtoull(hash->valuestring, NULL, 16);
        const cJSON *item = NULL;
        cJSON_ArrayForEach(item, sets)
        {
            if (cJSON_IsString(item) && strlen(item->valuestring) < RECON_SET_MAX)
                snprintf(q->sets[q->n_sets++], RECON_SET_MAX, "%s", item->valuestring);
        }
        double point = number_or_nan(o, "point");
        q->point = isnan(point) ? 0 : (int)point;
        double ranks = number_or_nan(o, "ranks");
        if (!isnan(ranks) && (int)ranks != cbct_comm_size(r->comm))
            s = cbct_error(CBCT_ERR_ARG, "checkpoint '%s' was written by a run on %d ranks; "
                           "resume it on %d ranks, not %d", path, (int)ranks, (int)ranks,
                           cbct_comm_size(r->comm));
        r->seconds_init = number_or_nan(init, "seconds");
        r->init_psnr_db = number_or_nan(init, "psnr");
        r->init_ssim = number_or_nan(init, "ssim");
        cJSON_ArrayForEach(item, its)
        {
            cbct_iteration_stats st = iteration_from_json(item);
            if (!s)
                s = recon_add_iteration(r, &st);
        }
    }
    cJSON_Delete(o);
    return s;
}

/* A run killed with SIGKILL while writing leaves its temporary file (the
 * target is intact: the rename never happened). The run's folder belongs
 * to the run, so its leftovers are removed when it resumes. */
void recon_remove_stale_temporaries(const char *dir)
{
    char pattern[CBCT_CONFIG_PATH_MAX + 32];
    snprintf(pattern, sizeof pattern, "%s/*.tmp.??????", dir); /* cbct_atomic_open's names */
    glob_t found;
    if (glob(pattern, 0, NULL, &found) != 0)
        return;
    for (size_t i = 0; i < found.gl_pathc; i++)
        if (unlink(found.gl_pathv[i]) == 0)
            cbct_log(CBCT_LOG_INFO, "removed '%s', left by the interrupted run",
                     found.gl_pathv[i]);
    globfree(&found);
}

void recon_checkpoint_name(const char *dir, int rank, char *path, size_t len)
{
    if (rank == 0)
        snprintf(path, len, "%s/%s", dir, RECON_CHECKPOINT_NAME);
    else
        snprintf(path, len, "%s/checkpoint.rank%d.cbct", dir, rank);
}

cbct_status recon_checkpoint_load(const char *dir, int rank, cbct_solver_state *state,
                                  recon_request *request, recon_run *r)
{
    char path[CBCT_CONFIG_PATH_MAX + 32];
    if (strlen(dir) >= CBCT_CONFIG_PATH_MAX)
        return cbct_error(CBCT_ERR_ARG, "--resume '%s': folder name too long", dir);
    recon_checkpoint_name(dir, rank, path, sizeof path);
    char *extra = NULL;
    cbct_status s = cbct_checkpoint_read(path, state, &extra);
    if (s)
        return s;
    memset(request, 0, sizeof *request);
    if (!extra)
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s' was not written by cbct recon", path);
    if (!s)
        s = parse_extra(extra, path, request, r);
    free(extra);
    if (s)
        cbct_solver_state_free(state);
    return s;
}
