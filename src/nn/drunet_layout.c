/* The list of convolutions of a DRUNet configuration: names and shapes in
 * forward order (see drunet_internal.h), shared by the loader, the random
 * initialisation and the forward pass. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/drunet_internal.h"

int64_t cbct_nn_drunet_conv_count(const cbct_drunet_config *config)
{
    return 8 + 14 * (int64_t)config->nb;
}

cbct_status cbct_nn_drunet_check_config(const cbct_drunet_config *config)
{
    if (!config)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: no configuration given");
    if (config->dims != 2 && config->dims != 3)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: dims = %d: expected 2 or 3", config->dims);
    /* in_channels + 1 (the noise map) must fit the same limit. */
    if (config->in_channels < 1 || config->in_channels >= CBCT_NN_MAX_CHANNELS ||
        config->out_channels < 1 || config->out_channels >= CBCT_NN_MAX_CHANNELS)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: in_channels = %d, out_channels = %d: expected "
                          "1 to %d", config->in_channels, config->out_channels,
                          CBCT_NN_MAX_CHANNELS - 1);
    for (int l = 0; l < 4; l++)
        if (config->channels[l] < 1 || config->channels[l] > CBCT_NN_MAX_CHANNELS)
            return cbct_error(CBCT_ERR_ARG, "DRUNet: channels[%d] = %lld: expected 1 to %d", l,
                              (long long)config->channels[l], CBCT_NN_MAX_CHANNELS);
    if (config->nb < 1 || config->nb > CBCT_NN_MAX_BLOCKS)
        return cbct_error(CBCT_ERR_ARG, "DRUNet: nb = %d residual blocks: expected 1 to %d",
                          config->nb, CBCT_NN_MAX_BLOCKS);
    return CBCT_OK;
}

const char *cbct_nn_shape_text(const int64_t *shape, int ndim, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

typedef struct {
    const cbct_drunet_config *config;
    cbct_nn_conv *convs;
    int64_t next;
} layout;

__attribute__((format(printf, 5, 6))) static void add_conv(layout *lay, cbct_nn_layer_kind kind,
                                                           int64_t c_in, int64_t c_out,
                                                           const char *fmt, ...)
{
    cbct_nn_conv *c = &lay->convs[lay->next++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
    c->kind = kind;
    c->c_in = c_in;
    c->c_out = c_out;
    c->ndim = lay->config->dims + 2;
    /* PyTorch: Conv (out, in, k...), ConvTranspose (in, out, k...). */
    c->shape[0] = kind == CBCT_NN_UP2 ? c_in : c_out;
    c->shape[1] = kind == CBCT_NN_UP2 ? c_out : c_in;
    c->numel = c_in * c_out;
    for (int i = 2; i < c->ndim; i++) {
        c->shape[i] = kind == CBCT_NN_CONV3 ? 3 : 2;
        c->numel *= c->shape[i];
    }
}

/* nb ResBlocks named prefix.{first + i}.res.{0,2}.weight. */
static void add_blocks(layout *lay, const char *prefix, int first, int64_t channels)
{
    for (int i = 0; i < lay->config->nb; i++) {
        add_conv(lay, CBCT_NN_CONV3, channels, channels, "%s.%d.res.0.weight", prefix, first + i);
        add_conv(lay, CBCT_NN_CONV3, channels, channels, "%s.%d.res.2.weight", prefix, first + i);
    }
}

cbct_status cbct_nn_drunet_alloc(const cbct_drunet_config *config, cbct_drunet **out)
{
    *out = NULL;
    cbct_status s = cbct_nn_drunet_check_config(config);
    if (s)
        return s;
    cbct_drunet *net = cbct_calloc(1, sizeof *net, "DRUNet");
    if (!net)
        return CBCT_ERR_MEMORY;
    net->config = *config;
    net->kernel = CBCT_NN_KERNEL_FAST;
    net->n_convs = cbct_nn_drunet_conv_count(config);
    net->convs = cbct_calloc((size_t)net->n_convs, sizeof *net->convs, "DRUNet layers");
    if (!net->convs) {
        cbct_drunet_destroy(net);
        return CBCT_ERR_MEMORY;
    }
    const int64_t *c = config->channels;
    layout lay = {config, net->convs, 0};
    char prefix[16];
    add_conv(&lay, CBCT_NN_CONV3, config->in_channels + 1, c[0], "m_head.weight");
    for (int l = 0; l < 3; l++) {
        snprintf(prefix, sizeof prefix, "m_down%d", l + 1);
        add_blocks(&lay, prefix, 0, c[l]);
        add_conv(&lay, CBCT_NN_DOWN2, c[l], c[l + 1], "%s.%d.weight", prefix, config->nb);
    }
    if (config->nb == 1) {
        add_conv(&lay, CBCT_NN_CONV3, c[3], c[3], "m_body.res.0.weight");
        add_conv(&lay, CBCT_NN_CONV3, c[3], c[3], "m_body.res.2.weight");
    } else {
        add_blocks(&lay, "m_body", 0, c[3]);
    }
    for (int l = 2; l >= 0; l--) {
        snprintf(prefix, sizeof prefix, "m_up%d", l + 1);
        add_conv(&lay, CBCT_NN_UP2, c[l + 1], c[l], "%s.0.weight", prefix);
        add_blocks(&lay, prefix, 1, c[l]);
    }
    add_conv(&lay, CBCT_NN_CONV3, c[0], config->out_channels, "m_tail.weight");

    size_t total = 0;
    for (int64_t i = 0; i < net->n_convs; i++)
        total += (size_t)net->convs[i].numel;
    net->weights = cbct_alloc(total * sizeof(float), "DRUNet weights");
    if (!net->weights) {
        cbct_drunet_destroy(net);
        return CBCT_ERR_MEMORY;
    }
    float *w = net->weights;
    for (int64_t i = 0; i < net->n_convs; i++) {
        net->convs[i].weight = w;
        w += net->convs[i].numel;
    }
    *out = net;
    return CBCT_OK;
}
