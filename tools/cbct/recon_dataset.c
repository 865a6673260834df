/* The dataset of `cbct recon`: ground truth, circular scan geometry fitted
 * to it, simulated projections with optional Poisson noise, or measured
 * projections with their geometry. */
#include <math.h>
#include <string.h>

#include "inputs.h"
#include "recon.h"

/* The scene of `cbct demo`: a 128 mm cube (largest axis); the detector is
 * 1.25 times the volume's width in pixels of 1.6 voxels, so that the whole
 * object is inside every view at magnification 2. */
#define SCENE_EXTENT_MM 128.0
#define DETECTOR_OVERSIZE 1.25
#define PIXEL_PER_VOXEL 1.6
#define SHEPP_LOGAN_RADIUS_FRACTION 0.45 /* as `cbct phantom` */
#define SHEPP_LOGAN_VALUE_PER_MM 0.02
#define PHANTOM_SUPERSAMPLE 2
#define MAX_ELLIPSOIDS 16

/* Circular scan of c->num_projections views around a volume of `shape`
 * voxels of `voxel_mm`, centred on the origin. */
static cbct_status fit_geometry(const cbct_recon_config *c, const int64_t shape[3],
                                const double voxel_mm[3], cbct_geometry *g)
{
    int64_t widest = shape[1] > shape[2] ? shape[1] : shape[2];
    int64_t rows = c->detector[0] ? c->detector[0]
                                  : (int64_t)ceil(DETECTOR_OVERSIZE * (double)shape[0]);
    int64_t cols = c->detector[1] ? c->detector[1]
                                  : (int64_t)ceil(DETECTOR_OVERSIZE * (double)widest);
    double pitch = PIXEL_PER_VOXEL * voxel_mm[2];
    cbct_circular circ = {.n_views = c->num_projections,
                          .first_angle_rad = 0,
                          .arc_rad = 2 * CLI_PI,
                          .sod_mm = c->sod_mm,
                          .sdd_mm = c->sdd_mm,
                          .det_rows = rows,
                          .det_cols = cols,
                          .pixel_mm = {c->pixel_mm[0] > 0 ? c->pixel_mm[0] : pitch,
                                       c->pixel_mm[1] > 0 ? c->pixel_mm[1] : pitch},
                          .det_offset_mm = {0, 0}};
    cbct_status s = cbct_geometry_circular(&circ, g);
    for (int i = 0; s == CBCT_OK && i < 3; i++) {
        g->vol.shape[i] = shape[i];
        g->vol.voxel_size[i] = voxel_mm[i];
        g->vol.origin[i] = 0;
    }
    return s;
}

/* The scan geometry and the phantom's or file's voxel grid, before any
 * voxel is made. */
static cbct_status truth_geometry(const cbct_recon_config *c, cbct_volume_header *h,
                                 cbct_geometry *g)
{
    if (c->source == CBCT_SOURCE_VOLUME) {
        cbct_status s = cbct_volume_read_header(c->volume_path, h);
        return s ? s : fit_geometry(c, h->shape, h->spacing, g);
    }
    int64_t largest = c->shape[0];
    for (int i = 1; i < 3; i++)
        largest = c->shape[i] > largest ? c->shape[i] : largest;
    double voxel = SCENE_EXTENT_MM / (double)largest;
    double voxel_mm[3] = {voxel, voxel, voxel};
    return fit_geometry(c, c->shape, voxel_mm, g);
}

/* Rows [z0, z0 + nz) of the ground truth (a phantom voxelised, or a volume
 * file read and scaled by value_scale), checked finite. */
static cbct_status truth_rows(const cbct_recon_config *c, const cbct_volume_header *h,
                              const cbct_volume_geom *vg, int64_t z0, int64_t nz, float *rows)
{
    if (c->source == CBCT_SOURCE_VOLUME) {
        cbct_status s = cbct_volume_read_slices(c->volume_path, h, z0, nz, rows);
        int64_t n = nz * vg->shape[1] * vg->shape[2], rows_shape[3] = {nz, vg->shape[1],
                                                                        vg->shape[2]};
        if (!s)
            s = cli_check_finite(rows, rows_shape, z0, c->volume_path, "z, y, x");
        for (int64_t i = 0; !s && i < n; i++)
            rows[i] = (float)(rows[i] * c->value_scale);
        return s;
    }
    if (c->phantom == CBCT_PHANTOM_WALNUT)
        return cbct_phantom_walnut_rows(vg, c->seed, z0, nz, rows);
    cbct_ellipsoid e[MAX_ELLIPSOIDS];
    int n = 0;
    cbct_status s = cbct_phantom_shepp_logan(SHEPP_LOGAN_RADIUS_FRACTION * SCENE_EXTENT_MM,
                                             SHEPP_LOGAN_VALUE_PER_MM, e, MAX_ELLIPSOIDS, &n);
    return s ? s : cbct_phantom_voxelize_rows(e, n, vg, PHANTOM_SUPERSAMPLE, z0, nz, rows);
}

/* The whole ground truth: rows [0, depth) of truth_rows. */
static cbct_status make_truth(const cbct_recon_config *c, recon_dataset *d)
{
    cbct_volume_header h;
    memset(&h, 0, sizeof h);
    cbct_status s = truth_geometry(c, &h, &d->geom);
    const int64_t *shape = d->geom.vol.shape;
    if (s == CBCT_OK)
        s = cbct_array_create(&d->truth, shape[0], shape[1], shape[2], "ground truth");
    for (int i = 0; s == CBCT_OK && i < 3; i++)
        d->truth.spacing[i] = d->geom.vol.voxel_size[i];
    if (s == CBCT_OK)
        s = truth_rows(c, &h, &d->geom.vol, 0, shape[0], d->truth.data);
    return s;
}

/* splitmix64: a small seeded generator, so that noise is reproducible. */
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

/* Poisson sample: Knuth's product of uniforms for small means, the normal
 * approximation (error well below the noise itself) above. */
#define POISSON_NORMAL_ABOVE 30.0
static double poisson(double mean, uint64_t *state)
{
    if (mean < POISSON_NORMAL_ABOVE) {
        double limit = exp(-mean), p = 1.0;
        int k = -1;
        do {
            k++;
            p *= uniform(state);
        } while (p > limit);
        return k;
    }
    double g = sqrt(-2.0 * log(uniform(state))) * cos(2 * CLI_PI * uniform(state));
    double k = floor(mean + sqrt(mean) * g + 0.5);
    return k > 0 ? k : 0;
}

/* Counts N exp(-p) with Poisson noise, back to line integrals; a pixel
 * that counts no photon is read as one (the log would be infinite). */
static void add_noise(cbct_array *proj, double photons, uint64_t seed)
{
    uint64_t state = seed;
    int64_t n = cbct_array_numel(proj);
    for (int64_t i = 0; i < n; i++) {
        double counts = poisson(photons * exp(-(double)proj->data[i]), &state);
        proj->data[i] = (float)-log((counts > 1 ? counts : 1) / photons);
    }
}

static cbct_status load_measured(const cbct_recon_config *c, recon_dataset *d)
{
    cbct_status s = cbct_geometry_read_json(c->geometry_path, &d->geom);
    if (s == CBCT_OK)
        s = cbct_volume_read(c->projections_path, &d->proj);
    if (s == CBCT_OK)
        s = cli_check_finite(d->proj.data, d->proj.shape, 0, c->projections_path,
                             "view, row, column");
    if (s != CBCT_OK)
        return s;
    const int64_t *p = d->proj.shape;
    if (p[0] != d->geom.n_views || p[1] != d->geom.det_rows || p[2] != d->geom.det_cols)
        return cbct_error(CBCT_ERR_ARG,
                          "dataset.tomography_3d.projections: '%s' holds %lld x %lld x %lld "
                          "but '%s' describes %lld views of %lld x %lld pixels",
                          c->projections_path, (long long)p[0], (long long)p[1],
                          (long long)p[2], c->geometry_path, (long long)d->geom.n_views,
                          (long long)d->geom.det_rows, (long long)d->geom.det_cols);
    return CBCT_OK;
}

/* A Walnut dataset folder (docs/walnut.md): its projections and geometry,
 * and its reference reconstruction as ground truth when present; with
 * use_dataset_sinogram false only the geometry and the truth are kept (the
 * projections are simulated from the truth by the caller). */
static cbct_status load_walnut(const cbct_recon_config *c, recon_dataset *d)
{
    cbct_walnut_options o = {.path = c->walnut_path,
                             .orbit = (int)c->orbit,
                             .num_projections = c->num_projections,
                             .volume_shape = {c->shape[0], c->shape[1], c->shape[2]},
                             .voxel_size_mm = c->voxel_mm,
                             .load_truth = 1};
    cbct_walnut_report report;
    cbct_status s = cbct_walnut_load(&o, &d->geom, &d->proj, &d->truth, &report);
    if (s)
        return cbct_error_prefix(s, "dataset.tomography_3d.path");
    if (report.clamped > 0)
        cbct_log(CBCT_LOG_WARN, "walnut: %lld pixels with a non-positive flat-field ratio "
                 "were clamped", (long long)report.clamped);
    if (!c->use_dataset_sinogram && !d->truth.data)
        return cbct_error(CBCT_ERR_ARG, "dataset.tomography_3d.use_dataset_sinogram: false "
                          "simulates from the reference reconstruction, but '%s' has none "
                          "(Reconstructions/full_AGD_50_*.tiff of the volume's shape)",
                          c->walnut_path);
    if (!c->use_dataset_sinogram)
        cbct_array_destroy(&d->proj);
    return CBCT_OK;
}

/* ---- A volume split over ranks: each rank makes only its rows ---------------- */

/* With distribute_volume on several ranks, a phantom or a volume file is
 * made slab by slab: rank r voxelises (or reads) its rows only and
 * projects them; the partial projections are summed over ranks, then the
 * noise is drawn on the whole stack (the same seed everywhere). The
 * dataset's peak is then one slab and the projections per rank. */
static cbct_status build_split(const cbct_recon_config *c, cbct_comm *comm, recon_dataset *d)
{
    cbct_volume_header h;
    memset(&h, 0, sizeof h);
    cbct_status s = truth_geometry(c, &h, &d->geom);
    cbct_operator_opts oo;
    if (!s)
        s = recon_dist_operator_opts(c, &d->geom, comm, &oo);
    int64_t z0 = oo.slab_z0, nz = oo.slab_nz;
    const int64_t *shape = d->geom.vol.shape;
    if (!s)
        s = cbct_array_create(&d->truth, nz, shape[1], shape[2], "ground truth, this rank's rows");
    for (int i = 0; !s && i < 3; i++)
        d->truth.spacing[i] = d->geom.vol.voxel_size[i];
    if (!s)
        s = truth_rows(c, &h, &d->geom.vol, z0, nz, d->truth.data);
    if (!s)
        s = cbct_array_create(&d->proj, d->geom.n_views, d->geom.det_rows, d->geom.det_cols,
                              "projections");
    cbct_projector *p = NULL;
    cbct_projector_opts popts = {.kernel = CBCT_KERNEL_FAST};
    if (!s)
        s = cbct_projector_create(&d->geom, &popts, &p);
    cbct_block b = cbct_block_all(&d->geom);
    b.z0 = z0;
    b.nz = nz;
    if (!s)
        s = cbct_project_block(p, b, d->truth.data, d->proj.data, 0);
    cbct_projector_destroy(p);
    /* A collective: a failure above reaches the other ranks here. */
    s = cbct_comm_finish(comm, s);
    if (!s)
        s = cbct_comm_sum_f32(comm, d->proj.data, cbct_array_numel(&d->proj));
    if (!s && c->photons > 0)
        add_noise(&d->proj, c->photons, c->noise_seed);
    return s;
}

cbct_status recon_dataset_build(const cbct_recon_config *c, cbct_comm *comm, recon_dataset *d)
{
    memset(d, 0, sizeof *d);
    double t0 = cbct_seconds();
    if (c->distribute_volume && cbct_comm_size(comm) > 1 &&
        (c->source == CBCT_SOURCE_PHANTOM || c->source == CBCT_SOURCE_VOLUME)) {
        cbct_status s = build_split(c, comm, d);
        d->seconds = cbct_seconds() - t0;
        return s;
    }
    if (c->source == CBCT_SOURCE_PROJECTIONS ||
        (c->source == CBCT_SOURCE_WALNUT && c->use_dataset_sinogram)) {
        cbct_status s = c->source == CBCT_SOURCE_WALNUT ? load_walnut(c, d) : load_measured(c, d);
        d->seconds = cbct_seconds() - t0;
        return s;
    }
    cbct_status s = c->source == CBCT_SOURCE_WALNUT ? load_walnut(c, d) : make_truth(c, d);
    if (s == CBCT_OK)
        s = cbct_array_create(&d->proj, d->geom.n_views, d->geom.det_rows, d->geom.det_cols,
                              "projections");
    cbct_projector *p = NULL;
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    if (s == CBCT_OK)
        s = cbct_projector_create(&d->geom, &opts, &p);
    if (s == CBCT_OK)
        s = cbct_project(p, d->truth.data, d->proj.data);
    if (p)
        cbct_projector_destroy(p);
    if (s == CBCT_OK && c->photons > 0)
        add_noise(&d->proj, c->photons, c->noise_seed);
    d->seconds = cbct_seconds() - t0;
    return s;
}

void recon_dataset_destroy(recon_dataset *d)
{
    cbct_array_destroy(&d->truth);
    cbct_array_destroy(&d->proj);
    cbct_geometry_destroy(&d->geom);
}
