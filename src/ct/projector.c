/* The projector plan: a validated copy of the geometry, per-view ray data in
 * voxel-index space, and the kernel table it dispatches to. */
#include <string.h>

#include "cbct/projector.h"
#include "cpu/joseph.h"

struct cbct_projector {
    cbct_geometry geom;
    joseph_view *views; /* n_views, tracked */
    const joseph_kernels *kernels;
};

cbct_status cbct_projector_create(const cbct_geometry *g, const cbct_projector_opts *opts,
                                  cbct_projector **out)
{
    if (!g || !out)
        return cbct_error(CBCT_ERR_ARG, "cbct_projector_create: NULL geometry or output");
    *out = NULL;
    cbct_status s = cbct_geometry_validate(g);
    if (s)
        return s;
    cbct_projector *p = cbct_calloc(1, sizeof *p, "projector");
    if (!p)
        return CBCT_ERR_MEMORY;
    s = cbct_geometry_copy(g, &p->geom);
    if (s) {
        cbct_free(p);
        return s;
    }
    p->views = cbct_alloc((size_t)g->n_views * sizeof(joseph_view), "projector views");
    if (!p->views) {
        cbct_projector_destroy(p);
        return CBCT_ERR_MEMORY;
    }
    for (int64_t i = 0; i < g->n_views; i++)
        joseph_view_setup(&p->geom, i, &p->views[i]);
    cbct_kernel kernel = opts ? opts->kernel : CBCT_KERNEL_FAST;
    switch (kernel) {
    case CBCT_KERNEL_REFERENCE: p->kernels = &joseph_reference_kernels; break;
    case CBCT_KERNEL_FAST_SCALAR: p->kernels = &joseph_fast_scalar_kernels; break;
    default: p->kernels = &joseph_fast_kernels; break;
    }
    *out = p;
    return CBCT_OK;
}

void cbct_projector_destroy(cbct_projector *p)
{
    if (!p)
        return;
    cbct_geometry_destroy(&p->geom);
    cbct_free(p->views);
    cbct_free(p);
}

const cbct_geometry *cbct_projector_geometry(const cbct_projector *p) { return &p->geom; }

cbct_block cbct_block_all(const cbct_geometry *g)
{
    cbct_block b = {.view0 = 0, .n_views = g->n_views, .z0 = 0, .nz = g->vol.shape[0]};
    return b;
}

static cbct_status check_block(const cbct_projector *p, cbct_block b, const void *in,
                               const void *out)
{
    const cbct_geometry *g = &p->geom;
    if (!in || !out)
        return cbct_error(CBCT_ERR_ARG, "projector: NULL data pointer");
    if (b.view0 < 0 || b.n_views <= 0 || b.view0 + b.n_views > g->n_views)
        return cbct_error(CBCT_ERR_ARG, "projector: views [%lld, %lld) are outside the "
                          "geometry's %lld views", (long long)b.view0,
                          (long long)(b.view0 + b.n_views), (long long)g->n_views);
    if (b.z0 < 0 || b.nz <= 0 || b.z0 + b.nz > g->vol.shape[0])
        return cbct_error(CBCT_ERR_ARG, "projector: slab z [%lld, %lld) is outside the "
                          "volume's %lld slices", (long long)b.z0, (long long)(b.z0 + b.nz),
                          (long long)g->vol.shape[0]);
    return CBCT_OK;
}

cbct_status cbct_project_block(cbct_projector *p, cbct_block b, const float *slab, float *proj,
                               int accumulate)
{
    if (!p)
        return cbct_error(CBCT_ERR_ARG, "cbct_project_block: NULL projector");
    cbct_status s = check_block(p, b, slab, proj);
    if (s)
        return s;
    p->kernels->project(&p->geom, p->views + b.view0, b, slab, proj, accumulate);
    return CBCT_OK;
}

cbct_status cbct_backproject_block(cbct_projector *p, cbct_block b, const float *proj,
                                   float *slab, int accumulate)
{
    if (!p)
        return cbct_error(CBCT_ERR_ARG, "cbct_backproject_block: NULL projector");
    cbct_status s = check_block(p, b, proj, slab);
    if (s)
        return s;
    p->kernels->backproject(&p->geom, p->views + b.view0, b, proj, slab, accumulate);
    return CBCT_OK;
}

cbct_status cbct_project(cbct_projector *p, const float *vol, float *proj)
{
    if (!p)
        return cbct_error(CBCT_ERR_ARG, "cbct_project: NULL projector");
    return cbct_project_block(p, cbct_block_all(&p->geom), vol, proj, 0);
}

cbct_status cbct_backproject(cbct_projector *p, const float *proj, float *vol)
{
    if (!p)
        return cbct_error(CBCT_ERR_ARG, "cbct_backproject: NULL projector");
    return cbct_backproject_block(p, cbct_block_all(&p->geom), proj, vol, 0);
}

double cbct_block_updates(const cbct_geometry *g, cbct_block b)
{
    return (double)b.nz * (double)g->vol.shape[1] * (double)g->vol.shape[2] * (double)b.n_views;
}
