/* cbct_denoise_volume: the DRUNet applied to a whole volume patch by patch
 * (src/nn/tiling.c), with the batch size chosen from the memory model when
 * max_batch is 0. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn/tiling.h"

static const char *const axis_names[3] = {"z", "y", "x"};

size_t cbct_denoise_peak_bytes(const cbct_drunet *net, const cbct_patch_grid *grid, int blend,
                               int64_t batch)
{
    if (batch > grid->n_patches)
        batch = grid->n_patches;
    size_t run = cbct_tiling_run_bytes(grid, blend, batch);
    size_t network = cbct_drunet_peak_bytes(net, batch, grid->window[0], grid->window[1],
                                            grid->window[2]);
    if (run == SIZE_MAX || network > SIZE_MAX - run)
        return SIZE_MAX;
    return run + network;
}

cbct_status cbct_denoise_choose_batch(const cbct_drunet *net, const cbct_patch_grid *grid,
                                      int blend, size_t available, int64_t *batch)
{
    size_t one = cbct_denoise_peak_bytes(net, grid, blend, 1);
    if (one > available) {
        char need[32], windows[32], left[32];
        return cbct_error(CBCT_ERR_MEMORY,
                          "denoiser: one window of %lld x %lld x %lld voxels needs %s (of which "
                          "%s for the windows in and out) but only %s is left of the memory "
                          "budget; use a smaller patch or overlap, or raise --mem",
                          (long long)grid->window[0], (long long)grid->window[1],
                          (long long)grid->window[2], cbct_format_size(one, need, sizeof need),
                          cbct_format_size(cbct_tiling_run_bytes(grid, blend, 1), windows,
                                           sizeof windows),
                          cbct_format_size(available, left, sizeof left));
    }
    /* The predicted peak grows with the batch: double while it fits, then
     * bisect between the last batch that fits and the first that does not. */
    int64_t fits = 1, fails = grid->n_patches + 1;
    while (fits < grid->n_patches) {
        int64_t next = 2 * fits < grid->n_patches ? 2 * fits : grid->n_patches;
        if (cbct_denoise_peak_bytes(net, grid, blend, next) > available) {
            fails = next;
            break;
        }
        fits = next;
    }
    while (fails - fits > 1) {
        int64_t mid = fits + (fails - fits) / 2;
        if (cbct_denoise_peak_bytes(net, grid, blend, mid) > available)
            fails = mid;
        else
            fits = mid;
    }
    *batch = fits;
    return CBCT_OK;
}

/* The memory the automatic batch may fill: what is left of the budget, or
 * without a budget what is left of the machine's physical memory (a batch
 * that does not fit there would swap or be killed). */
static size_t memory_for_batch(void)
{
    size_t available = cbct_mem_available();
    if (available != SIZE_MAX)
        return available;
    long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_bytes <= 0)
        return SIZE_MAX;
    size_t physical = (size_t)pages * (size_t)page_bytes, used = cbct_mem_current();
    return physical > used ? physical - used : 0;
}

typedef struct drunet_call {
    cbct_drunet *net;
    float sigma;
} drunet_call;

static cbct_status apply_drunet(void *context, const float *in, int64_t n, int64_t d,
                                int64_t h, int64_t w, float *out)
{
    drunet_call *call = context;
    return cbct_drunet_apply(call->net, in, n, d, h, w, call->sigma, out);
}

static cbct_status check_arguments(const cbct_drunet *net, const cbct_array *volume,
                                   float sigma, const cbct_tiling *tiling)
{
    if (!net || !volume || !volume->data || !tiling)
        return cbct_error(CBCT_ERR_ARG, "denoise: network, volume and tiling must be given");
    if (!isfinite(sigma) || sigma < 0.0f)
        return cbct_error(CBCT_ERR_ARG, "denoise: noise level sigma %g: expected a finite "
                          "value >= 0", (double)sigma);
    if (tiling->max_batch < 0)
        return cbct_error(CBCT_ERR_ARG, "denoise: max_batch %lld: expected >= 1, or 0 for the "
                          "largest batch that fits the memory budget",
                          (long long)tiling->max_batch);
    const cbct_drunet_config *config = cbct_drunet_get_config(net);
    if (config->in_channels != 1 || config->out_channels != 1)
        return cbct_error(CBCT_ERR_ARG, "denoise: the network takes %d channels and gives %d: "
                          "a volume needs 1 and 1", config->in_channels, config->out_channels);
    if (config->dims == 2 && (tiling->patch[0] != 1 || tiling->overlap[0] != 0))
        return cbct_error(CBCT_ERR_ARG, "denoise: a 2D network denoises slice by slice: the "
                          "patch along z must be 1 (got %lld) and the overlap along z 0 (got "
                          "%lld)", (long long)tiling->patch[0], (long long)tiling->overlap[0]);
    return CBCT_OK;
}

/* Makes `out` an array of the volume's shape: created when out->data is
 * NULL (*created = 1), else checked. */
static cbct_status prepare_output(const cbct_array *volume, cbct_array *out, int *created)
{
    *created = 0;
    if (out->data) {
        if (out->data == volume->data)
            return cbct_error(CBCT_ERR_ARG, "denoise: the output must not be the input volume");
        for (int a = 0; a < 3; a++)
            if (out->shape[a] != volume->shape[a])
                return cbct_error(CBCT_ERR_ARG, "denoise: output has %lld voxels along %s, the "
                                  "volume %lld", (long long)out->shape[a], axis_names[a],
                                  (long long)volume->shape[a]);
        return CBCT_OK;
    }
    cbct_status s = cbct_array_create(out, volume->shape[0], volume->shape[1],
                                      volume->shape[2], "denoised volume");
    if (s != CBCT_OK)
        return s;
    memcpy(out->spacing, volume->spacing, sizeof out->spacing);
    memcpy(out->origin, volume->origin, sizeof out->origin);
    *created = 1;
    return CBCT_OK;
}

cbct_status cbct_denoise_volume(cbct_drunet *net, const cbct_array *volume, float sigma,
                                const cbct_tiling *tiling, cbct_array *out)
{
    cbct_status s = check_arguments(net, volume, sigma, tiling);
    if (s != CBCT_OK)
        return s;
    if (!out)
        return cbct_error(CBCT_ERR_ARG, "denoise: no output array given");
    cbct_patch_grid grid;
    s = cbct_patch_grid_init(volume->shape, tiling->patch, tiling->overlap, &grid);
    int created = 0;
    if (s == CBCT_OK)
        s = prepare_output(volume, out, &created);
    int64_t batch = tiling->max_batch;
    if (s == CBCT_OK && batch == 0)
        s = cbct_denoise_choose_batch(net, &grid, tiling->blend, memory_for_batch(), &batch);
    if (s == CBCT_OK) {
        if (batch > grid.n_patches)
            batch = grid.n_patches;
        char peak[32];
        cbct_log(CBCT_LOG_DEBUG, "denoise: %lld patches of %lld x %lld x %lld voxels (windows "
                 "%lld x %lld x %lld), %lld per call%s; predicted peak %s", (long long)grid.n_patches,
                 (long long)grid.patch[0], (long long)grid.patch[1], (long long)grid.patch[2],
                 (long long)grid.window[0], (long long)grid.window[1], (long long)grid.window[2],
                 (long long)batch, tiling->max_batch == 0 ? " (largest that fits)" : "",
                 cbct_format_size(cbct_denoise_peak_bytes(net, &grid, tiling->blend, batch),
                                  peak, sizeof peak));
        drunet_call call = {net, sigma};
        s = cbct_tiling_run(&grid, volume->data, tiling->blend, batch, apply_drunet, &call,
                            out->data);
    }
    if (s != CBCT_OK && created)
        cbct_array_destroy(out);
    return s;
}

/* ---- Parts, for distributed runs ----------------------------------------------- */

static cbct_status part_grid(const cbct_tiling *tiling, const int64_t shape[3],
                             cbct_patch_grid *grid)
{
    int64_t patch[3];
    for (int a = 0; a < 3; a++)
        patch[a] = tiling->patch[a] > 0 ? tiling->patch[a] : shape[a];
    return cbct_patch_grid_init(shape, patch, tiling->overlap, grid);
}

cbct_status cbct_tiling_patch_counts(const cbct_tiling *tiling, const int64_t shape[3],
                                     int64_t counts[3], int64_t patch_used[3])
{
    cbct_patch_grid grid;
    cbct_status s = part_grid(tiling, shape, &grid);
    for (int a = 0; !s && a < 3; a++) {
        counts[a] = grid.count[a];
        patch_used[a] = grid.patch[a];
    }
    return s;
}

cbct_status cbct_tiling_rows_needed(const cbct_tiling *tiling, const int64_t shape[3],
                                    int64_t first, int64_t step, int64_t count, int64_t *z0,
                                    int64_t *z1)
{
    cbct_patch_grid grid;
    cbct_status s = part_grid(tiling, shape, &grid);
    if (s)
        return s;
    if (first < 0 || step < 1 || count < 0 || (count > 0 && first + (count - 1) * step >= grid.n_patches))
        return cbct_error(CBCT_ERR_ARG, "denoise: patches %lld + j * %lld, j < %lld: outside the "
                          "%lld patches", (long long)first, (long long)step, (long long)count,
                          (long long)grid.n_patches);
    cbct_tiling_rows_read(&grid, first, step, count, z0, z1);
    return CBCT_OK;
}

cbct_status cbct_denoise_volume_part(cbct_drunet *net, const cbct_array *in, float sigma,
                                     const cbct_tiling *tiling, const cbct_denoise_part *part,
                                     cbct_array *out)
{
    cbct_status s = check_arguments(net, in, sigma, tiling);
    if (s)
        return s;
    if (!part || !out || !out->data || out->data == in->data)
        return cbct_error(CBCT_ERR_ARG, "denoise part: an output array (not the input) and the "
                          "part must be given");
    if (tiling->blend)
        return cbct_error(CBCT_ERR_ARG, "denoise part: blending is not available for parts of "
                          "a volume (centres only)");
    cbct_patch_grid grid;
    s = part_grid(tiling, part->shape, &grid);
    int64_t need0 = 0, need1 = 0;
    if (!s)
        s = cbct_tiling_rows_needed(tiling, part->shape, part->first, part->step, part->count,
                                    &need0, &need1);
    if (!s && part->count > 0 &&
        (need0 < part->in_z0 || need1 > part->in_z0 + in->shape[0]))
        s = cbct_error(CBCT_ERR_ARG, "denoise part: the patches read rows [%lld, %lld) but the "
                       "input holds [%lld, %lld)", (long long)need0, (long long)need1,
                       (long long)part->in_z0, (long long)(part->in_z0 + in->shape[0]));
    /* The written rows of the patches must be rows of `out`. */
    for (int64_t j = 0; !s && j < part->count; j++) {
        cbct_patch_box b;
        cbct_patch_grid_box(&grid, part->first + j * part->step, &b);
        if (b.write0[0] < part->out_z0 || b.write1[0] > part->out_z0 + out->shape[0])
            s = cbct_error(CBCT_ERR_ARG, "denoise part: patch %lld writes rows [%lld, %lld) "
                           "but the output holds [%lld, %lld)",
                           (long long)(part->first + j * part->step), (long long)b.write0[0],
                           (long long)b.write1[0], (long long)part->out_z0,
                           (long long)(part->out_z0 + out->shape[0]));
    }
    for (int a = 1; !s && a < 3; a++)
        if (in->shape[a] != part->shape[a] || out->shape[a] != part->shape[a])
            s = cbct_error(CBCT_ERR_ARG, "denoise part: arrays must have the volume's %s size "
                           "%lld", axis_names[a], (long long)part->shape[a]);
    if (s)
        return s;
    grid.in_z0 = part->in_z0;
    grid.out_z0 = part->out_z0;
    int64_t batch = tiling->max_batch;
    if (batch == 0)
        s = cbct_denoise_choose_batch(net, &grid, 0, memory_for_batch(), &batch);
    drunet_call call = {net, sigma};
    if (!s)
        s = cbct_tiling_run_part(&grid, in->data, 0, batch, apply_drunet, &call, out->data,
                                 part->first, part->step, part->count);
    return s;
}
