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
