/* DRUNet inference, layer by layer, with activations from the tracked
 * allocator freed as soon as they are dead. The same code runs "dry"
 * (counting bytes, computing nothing) to predict the peak exactly.
 *
 * Live tensors at the widest point (level 0, c0 channels, S voxels per
 * sample): the skip x1, the running x and the ResBlock temporary t. A
 * ResBlock adds its second convolution into x in place
 * (x += conv(relu(conv(x)))), so it needs one temporary, not two; with
 * kernels that convolve some slices at a time (Winograd), the temporary is
 * a band of 2 RES_SLAB + 1 slices that moves along z instead of a whole
 * tensor (res_block_slabs), so the widest point holds about 2.3 tensors
 * instead of 3. */
#include <math.h>
#include <string.h>

#include "nn/drunet_internal.h"
#include "nn/kernels.h"

/* A tensor and the bytes it holds from the allocator (real or modelled). */
typedef struct {
    cbct_nn_tensor t;
    size_t held; /* 0: nothing held */
} buffer;

typedef struct {
    const cbct_drunet *net;
    const cbct_nn_kernels *k;
    int dry_run;          /* count bytes only */
    size_t current, peak; /* dry run: modelled tracked bytes */
    int64_t next_conv;    /* index into net->convs, in forward order */
    buffer x0, skip[4], x, t, out_padded;
} run_state;

static cbct_status buffer_alloc(run_state *r, buffer *b, int64_t n, int64_t c, int64_t d,
                                int64_t h, int64_t w, const char *what)
{
    b->t = (cbct_nn_tensor){n, c, d, h, w, NULL};
    size_t bytes = (size_t)cbct_nn_numel(&b->t) * sizeof(float);
    if (r->dry_run) {
        b->held = bytes + CBCT_NN_ALLOC_OVERHEAD;
        r->current += b->held;
        r->peak = r->current > r->peak ? r->current : r->peak;
        return CBCT_OK;
    }
    b->t.data = cbct_alloc(bytes, what);
    if (!b->t.data)
        return CBCT_ERR_MEMORY;
    b->held = bytes + CBCT_NN_ALLOC_OVERHEAD;
    return CBCT_OK;
}

static void buffer_free(run_state *r, buffer *b)
{
    if (b->held && r->dry_run)
        r->current -= b->held;
    else if (b->held)
        cbct_free(b->t.data);
    b->t.data = NULL;
    b->held = 0;
}

static void free_all(run_state *r)
{
    buffer_free(r, &r->x0);
    for (int l = 0; l < 4; l++)
        buffer_free(r, &r->skip[l]);
    buffer_free(r, &r->x);
    buffer_free(r, &r->t);
    buffer_free(r, &r->out_padded);
}

/* out (allocated by the caller) = or += the next convolution of in. */
static cbct_status conv_layer(run_state *r, const cbct_nn_tensor *in, cbct_nn_tensor *out,
                              int accumulate)
{
    const cbct_nn_conv *conv = &r->net->convs[r->next_conv++];
    const int dims = r->net->config.dims;
    cbct_nn_op op = conv->kind == CBCT_NN_CONV3   ? CBCT_NN_OP_CONV3
                    : conv->kind == CBCT_NN_DOWN2 ? CBCT_NN_OP_DOWN2
                                                  : CBCT_NN_OP_UP2;
    int k_d = dims == 2 ? 1 : (op == CBCT_NN_OP_CONV3 ? 3 : 2);
    buffer scratch = {{0}, 0};
    size_t scratch_bytes = r->k->scratch_bytes(op, in, conv->c_out, k_d);
    if (scratch_bytes) {
        cbct_status s = buffer_alloc(r, &scratch, 1, 1, 1, 1,
                                     (int64_t)((scratch_bytes + sizeof(float) - 1) / sizeof(float)),
                                     "DRUNet kernel scratch");
        if (s)
            return s;
    }
    if (!r->dry_run) {
        if (op == CBCT_NN_OP_CONV3)
            r->k->conv3(in, conv->weight, k_d, out, accumulate, scratch.t.data);
        else if (op == CBCT_NN_OP_DOWN2)
            r->k->down2(in, conv->weight, k_d, out, scratch.t.data);
        else
            r->k->up2(in, conv->weight, k_d, out, scratch.t.data);
    }
    buffer_free(r, &scratch);
    return CBCT_OK;
}

/* Output slices per step of a slab-wise ResBlock: one Winograd tile. */
#define RES_SLAB 2

static void move_slices(cbct_nn_tensor *t, int64_t from, int64_t count)
{
    const int64_t plane = t->h * t->w;
    for (int64_t bc = 0; bc < t->n * t->c; bc++) {
        float *base = t->data + bc * t->d * plane;
        memmove(base, base + from * plane, (size_t)(count * plane) * sizeof(float));
    }
}

/* x += conv2(relu(conv1(x))) in place, slab by slab along z. The band t
 * holds relu(conv1(x)) on slices [t0, t0 + band) of the volume: for output
 * slices [z0, z1) conv2 needs t on [z0 - 1, z1 + 1), and t on [z1, z1 +
 * RES_SLAB) is computed before x[z0, z1) is overwritten, from x slices
 * [z1 - 1, ...) that are still the block's input. Each value is the one the
 * whole-tensor calls give (the kernels' tiles are the same). */
static cbct_status res_block_slabs(run_state *r, const cbct_nn_conv *c1,
                                   const cbct_nn_conv *c2)
{
    cbct_nn_tensor *x = &r->x.t;
    const int64_t depth = x->d, band = depth + 1 < 2 * RES_SLAB + 1 ? depth + 1
                                                                    : 2 * RES_SLAB + 1;
    const int64_t prepared = (int64_t)r->k->prepared_floats(x->c, x->c);
    buffer scratch = {{0}, 0}, w1 = {{0}, 0}, w2 = {{0}, 0};
    size_t scratch_bytes = r->k->scratch_bytes(CBCT_NN_OP_CONV3, x, x->c, 3);
    cbct_status s = buffer_alloc(r, &r->t, x->n, x->c, band, x->h, x->w,
                                 "DRUNet ResBlock band");
    if (!s)
        s = buffer_alloc(r, &w1, 1, 1, 1, 1, prepared, "DRUNet prepared weights");
    if (!s)
        s = buffer_alloc(r, &w2, 1, 1, 1, 1, prepared, "DRUNet prepared weights");
    if (!s)
        s = buffer_alloc(r, &scratch, 1, 1, 1, 1,
                         (int64_t)((scratch_bytes + sizeof(float) - 1) / sizeof(float)),
                         "DRUNet kernel scratch");
    if (!s && !r->dry_run) {
        cbct_nn_tensor *t = &r->t.t;
        const float *u1 = w1.t.data, *u2 = w2.t.data;
        r->k->prepare_weights(c1->weight, x->c, x->c, w1.t.data);
        r->k->prepare_weights(c2->weight, x->c, x->c, w2.t.data);
        int64_t t0 = -1; /* slice of the volume in t's slice 0 */
        int64_t end = depth < RES_SLAB ? depth : RES_SLAB;
        r->k->conv3_slices(x, 0, depth, u1, t, t0, 0, end, 0, scratch.t.data);
        cbct_nn_relu_slices(t, 0 - t0, end - t0);
        for (int64_t z0 = 0; z0 < depth; z0 += RES_SLAB) {
            const int64_t z1 = z0 + RES_SLAB < depth ? z0 + RES_SLAB : depth;
            if (z1 < depth) {
                end = z1 + RES_SLAB < depth ? z1 + RES_SLAB : depth;
                r->k->conv3_slices(x, 0, depth, u1, t, t0, z1, end, 0, scratch.t.data);
                cbct_nn_relu_slices(t, z1 - t0, end - t0);
            }
            r->k->conv3_slices(t, t0, depth, u2, x, 0, z0, z1, 1, scratch.t.data);
            move_slices(t, z1 - 1 - t0, end - (z1 - 1));
            t0 = z1 - 1;
        }
    }
    buffer_free(r, &scratch);
    buffer_free(r, &w2);
    buffer_free(r, &w1);
    buffer_free(r, &r->t);
    return s;
}

/* nb ResBlocks, result in r->x. `input` is r->x (updated in place) or a
 * skip tensor, which is kept. */
static cbct_status res_blocks(run_state *r, buffer *input)
{
    const cbct_nn_tensor *in_t = &input->t;
    if (r->k->conv3_slices && r->net->config.dims == 3 &&
        r->k->slices_apply(in_t, in_t->c, 3)) {
        if (input != &r->x) { /* x = the skip, then in place */
            cbct_status s = buffer_alloc(r, &r->x, in_t->n, in_t->c, in_t->d, in_t->h, in_t->w,
                                         "DRUNet activation");
            if (s)
                return s;
            if (!r->dry_run)
                memcpy(r->x.t.data, in_t->data, (size_t)cbct_nn_numel(in_t) * sizeof(float));
        }
        for (int i = 0; i < r->net->config.nb; i++) {
            const cbct_nn_conv *c1 = &r->net->convs[r->next_conv];
            cbct_status s = res_block_slabs(r, c1, c1 + 1);
            r->next_conv += 2;
            if (s)
                return s;
        }
        return CBCT_OK;
    }
    for (int i = 0; i < r->net->config.nb; i++) {
        buffer *src = i == 0 ? input : &r->x;
        const cbct_nn_tensor *s_t = &src->t;
        cbct_status s = buffer_alloc(r, &r->t, s_t->n, s_t->c, s_t->d, s_t->h, s_t->w,
                                     "DRUNet ResBlock temporary");
        if (!s)
            s = conv_layer(r, s_t, &r->t.t, 0);
        if (s)
            return s;
        if (!r->dry_run)
            r->k->relu(&r->t.t);
        if (src == &r->x) {
            s = conv_layer(r, &r->t.t, &r->x.t, 1);
        } else {
            s = buffer_alloc(r, &r->x, s_t->n, s_t->c, s_t->d, s_t->h, s_t->w,
                             "DRUNet activation");
            if (!s)
                s = conv_layer(r, &r->t.t, &r->x.t, 0);
            if (!s && !r->dry_run)
                r->k->add(&r->x.t, s_t);
        }
        buffer_free(r, &r->t);
        if (s)
            return s;
    }
    return CBCT_OK;
}

static cbct_status forward(run_state *r, const float *in, int64_t n, int64_t d, int64_t h,
                           int64_t w, float sigma, float *out)
{
    const cbct_drunet_config *cfg = &r->net->config;
    int64_t size[3];
    cbct_drunet_padded_shape(r->net, d, h, w, size);
    const int padded = size[0] != d || size[1] != h || size[2] != w;
    const int64_t z_step = cfg->dims == 3 ? 2 : 1; /* 2D: d stays 1 */
    cbct_status s = buffer_alloc(r, &r->x0, n, cfg->in_channels + 1, size[0], size[1], size[2],
                                 "DRUNet input");
    if (s)
        return s;
    if (!r->dry_run)
        cbct_nn_fill_input(in, cfg->in_channels, d, h, w, sigma, &r->x0.t);
    if ((s = buffer_alloc(r, &r->skip[0], n, cfg->channels[0], size[0], size[1], size[2],
                          "DRUNet skip x1")) ||
        (s = conv_layer(r, &r->x0.t, &r->skip[0].t, 0)))
        return s;
    buffer_free(r, &r->x0);

    for (int l = 0; l < 3; l++) { /* m_down1..3 */
        if ((s = res_blocks(r, &r->skip[l])))
            return s;
        const cbct_nn_tensor *x = &r->x.t;
        if ((s = buffer_alloc(r, &r->skip[l + 1], n, cfg->channels[l + 1], x->d / z_step,
                              x->h / 2, x->w / 2, "DRUNet skip")) ||
            (s = conv_layer(r, x, &r->skip[l + 1].t, 0)))
            return s;
        buffer_free(r, &r->x);
    }
    if ((s = res_blocks(r, &r->skip[3]))) /* m_body */
        return s;
    for (int l = 3; l > 0; l--) { /* m_up3..1 on x + skip */
        if (!r->dry_run)
            r->k->add(&r->x.t, &r->skip[l].t);
        buffer_free(r, &r->skip[l]);
        buffer up = {{0}, 0};
        const cbct_nn_tensor *x = &r->x.t;
        if ((s = buffer_alloc(r, &up, n, cfg->channels[l - 1], x->d * z_step, x->h * 2,
                              x->w * 2, "DRUNet activation")) ||
            (s = conv_layer(r, x, &up.t, 0))) {
            buffer_free(r, &up);
            return s;
        }
        buffer_free(r, &r->x);
        r->x = up;
        if ((s = res_blocks(r, &r->x)))
            return s;
    }
    if (!r->dry_run)
        r->k->add(&r->x.t, &r->skip[0].t);
    buffer_free(r, &r->skip[0]);

    /* m_tail: straight into the caller's buffer when nothing was padded. */
    cbct_nn_tensor direct = {n, cfg->out_channels, d, h, w, out};
    cbct_nn_tensor *tail_out = &direct;
    if (padded) {
        if ((s = buffer_alloc(r, &r->out_padded, n, cfg->out_channels, size[0], size[1],
                              size[2], "DRUNet padded output")))
            return s;
        tail_out = &r->out_padded.t;
    }
    if ((s = conv_layer(r, &r->x.t, tail_out, 0)))
        return s;
    buffer_free(r, &r->x);
    if (padded && !r->dry_run)
        cbct_nn_crop_output(&r->out_padded.t, d, h, w, out);
    buffer_free(r, &r->out_padded);
    return CBCT_OK;
}

static cbct_status check_sizes(const cbct_drunet *net, int64_t n, int64_t d, int64_t h,
                               int64_t w)
{
    if (!net)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: no network given");
    if (n < 1 || d < 1 || h < 1 || w < 1)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: input of n = %lld, d = %lld, h = %lld, "
                          "w = %lld: expected sizes >= 1", (long long)n, (long long)d,
                          (long long)h, (long long)w);
    if (net->config.dims == 2 && d != 1)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: a 2D network takes d = 1, got d = %lld "
                          "(denoise slices as a batch)", (long long)d);
    /* Every activation must be addressable: n * D * H * W * channels
     * floats, checked in doubles before any product in int64_t. */
    int64_t size[3];
    cbct_drunet_padded_shape(net, d, h, w, size);
    int64_t widest = net->config.in_channels + 1;
    for (int l = 0; l < 4; l++)
        widest = net->config.channels[l] > widest ? net->config.channels[l] : widest;
    double floats = (double)n * (double)size[0] * (double)size[1] * (double)size[2] *
                    (double)(widest > net->config.out_channels ? widest
                                                               : net->config.out_channels);
    if (floats * sizeof(float) > (double)(INT64_MAX / 2))
        return cbct_error(CBCT_ERR_ARG, "DRUNet: input of n = %lld, %lld x %lld x %lld is "
                          "too large to address", (long long)n, (long long)d, (long long)h,
                          (long long)w);
    return CBCT_OK;
}

cbct_status cbct_drunet_apply(cbct_drunet *net, const float *in, int64_t n, int64_t d,
                              int64_t h, int64_t w, float sigma, float *out)
{
    cbct_status s = check_sizes(net, n, d, h, w);
    if (s)
        return s;
    if (!in || !out)
        return cbct_error(CBCT_ERR_ARG, "cbct_drunet_apply: no input or output buffer");
    if (!isfinite(sigma))
        return cbct_error(CBCT_ERR_ARG, "cbct_drunet_apply: sigma = %g: expected a finite "
                          "noise level", (double)sigma);
    run_state r = {.net = net, .k = cbct_nn_kernels_get(net->kernel)};
    s = forward(&r, in, n, d, h, w, sigma, out);
    free_all(&r);
    return s;
}

/* SIZE_MAX (never fits a budget) for sizes the network cannot take. */
size_t cbct_drunet_peak_bytes(const cbct_drunet *net, int64_t n, int64_t d, int64_t h,
                              int64_t w)
{
    if (check_sizes(net, n, d, h, w) != CBCT_OK)
        return SIZE_MAX;
    run_state r = {.net = net, .k = cbct_nn_kernels_get(net->kernel), .dry_run = 1};
    if (forward(&r, NULL, n, d, h, w, 0.0f, NULL) != CBCT_OK)
        return SIZE_MAX;
    return r.peak;
}
