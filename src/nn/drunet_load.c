/* Loading DRUNet weights from safetensors. The architecture is read from
 * the tensors (dims from the rank of m_head.weight, channels from the
 * shapes, nb from the number of ResBlocks of m_down1); then every expected
 * tensor must be present with exactly its shape, and nothing else may be
 * there (as PyTorch's load_state_dict(strict=True)): a checkpoint with
 * biases or another architecture is refused rather than half-loaded. */
#include <stdio.h>
#include <string.h>

#include "nn/drunet_internal.h"
#include "nn/safetensors.h"

#define NAMES_HINT "names as in KAIR / deepinv: m_head, m_down1..3, m_body, m_up3..1, m_tail"

static const cbct_nn_st_tensor *find(const cbct_nn_safetensors *st, const char *name)
{
    int64_t k = cbct_nn_safetensors_find(st, name);
    return k < 0 ? NULL : &st->tensors[k];
}

/* Output channels of a conv (dim 0 of its weight), checking its rank. */
static cbct_status out_channels_of(const char *path, const cbct_nn_safetensors *st,
                                   const char *name, int ndim, int64_t *channels)
{
    const cbct_nn_st_tensor *t = find(st, name);
    if (!t)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': missing tensor '%s' (%s)", path, name,
                          NAMES_HINT);
    if (t->ndim != ndim) {
        char shape[96];
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has shape %s: expected %d "
                          "dimensions like m_head.weight", path, name,
                          cbct_nn_shape_text(t->shape, t->ndim, shape, sizeof shape), ndim);
    }
    *channels = t->shape[0];
    return CBCT_OK;
}

static cbct_status infer_config(const char *path, const cbct_nn_safetensors *st,
                                cbct_drunet_config *config)
{
    memset(config, 0, sizeof *config);
    const cbct_nn_st_tensor *head = find(st, "m_head.weight");
    if (!head)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': missing tensor 'm_head.weight': not a DRUNet "
                          "checkpoint (%s)", path, NAMES_HINT);
    char shape[96];
    if ((head->ndim != 4 && head->ndim != 5) || head->shape[1] < 2)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor 'm_head.weight' has shape %s: expected "
                          "[c0, in + 1, 3, 3] (2D) or [c0, in + 1, 3, 3, 3] (3D)", path,
                          cbct_nn_shape_text(head->shape, head->ndim, shape, sizeof shape));
    config->dims = head->ndim - 2;
    config->in_channels = (int)(head->shape[1] < CBCT_NN_MAX_CHANNELS ? head->shape[1] - 1
                                                                       : CBCT_NN_MAX_CHANNELS);
    config->channels[0] = head->shape[0];
    char name[CBCT_NN_NAME_MAX];
    for (;;) {
        snprintf(name, sizeof name, "m_down1.%d.res.0.weight", config->nb);
        if (config->nb > CBCT_NN_MAX_BLOCKS || !find(st, name))
            break;
        config->nb++;
    }
    if (config->nb == 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': missing tensor 'm_down1.0.res.0.weight' (%s)",
                          path, NAMES_HINT);
    cbct_status s;
    for (int l = 1; l < 4; l++) {
        snprintf(name, sizeof name, "m_down%d.%d.weight", l, config->nb);
        if ((s = out_channels_of(path, st, name, head->ndim, &config->channels[l])))
            return s;
    }
    int64_t out_channels = 0;
    if ((s = out_channels_of(path, st, "m_tail.weight", head->ndim, &out_channels)))
        return s;
    config->out_channels = (int)(out_channels < CBCT_NN_MAX_CHANNELS ? out_channels
                                                                     : CBCT_NN_MAX_CHANNELS + 1);
    if ((s = cbct_nn_drunet_check_config(config)))
        return cbct_error_prefix(s, "'%s'", path);
    return CBCT_OK;
}

/* The tensor for a conv; KAIR names the single body ResBlock m_body.res.*
 * but a plain nn.Sequential would name it m_body.0.res.*: both are read. */
static int64_t find_conv(const cbct_nn_safetensors *st, const cbct_nn_conv *conv, int nb)
{
    int64_t k = cbct_nn_safetensors_find(st, conv->name);
    if (k < 0 && nb == 1 && strncmp(conv->name, "m_body.res.", 11) == 0) {
        char alt[CBCT_NN_NAME_MAX];
        snprintf(alt, sizeof alt, "m_body.0.%s", conv->name + 7);
        k = cbct_nn_safetensors_find(st, alt);
    }
    return k;
}

static cbct_status load_weights(const char *path, FILE *fp, const cbct_nn_safetensors *st,
                                cbct_drunet *net, unsigned char *used)
{
    char expected[96], found[96];
    for (int64_t i = 0; i < net->n_convs; i++) {
        const cbct_nn_conv *conv = &net->convs[i];
        cbct_nn_shape_text(conv->shape, conv->ndim, expected, sizeof expected);
        int64_t k = find_conv(st, conv, net->config.nb);
        if (k < 0)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': missing tensor '%s' (expected shape %s)",
                              path, conv->name, expected);
        const cbct_nn_st_tensor *t = &st->tensors[k];
        if (t->ndim != conv->ndim || memcmp(t->shape, conv->shape, sizeof(int64_t) * 
                                            (size_t)conv->ndim) != 0)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has shape %s: expected %s",
                              path, t->name, cbct_nn_shape_text(t->shape, t->ndim, found,
                                                                sizeof found), expected);
        used[k] = 1;
        cbct_status s = cbct_nn_safetensors_read_f32(fp, path, st, t, conv->weight);
        if (!s && (s = cbct_check_finite(conv->weight, conv->numel, t->name)))
            s = cbct_error_prefix(s, "'%s'", path);
        if (s)
            return s;
    }
    for (int64_t k = 0; k < st->n_tensors; k++)
        if (!used[k])
            return cbct_error(CBCT_ERR_FORMAT, "'%s': unexpected tensor '%s': a DRUNet with "
                              "nb = %d and no biases has no such parameter", path,
                              st->tensors[k].name, net->config.nb);
    return CBCT_OK;
}

cbct_status cbct_drunet_load(const char *path, cbct_drunet **out)
{
    if (!out || !path)
        return cbct_error(CBCT_ERR_ARG, "cbct_drunet_load: no path or no output pointer");
    *out = NULL;
    FILE *fp;
    cbct_nn_safetensors st;
    cbct_status s = cbct_nn_safetensors_open(path, &fp, &st);
    if (s)
        return s;
    cbct_drunet_config config;
    cbct_drunet *net = NULL;
    unsigned char *used = NULL;
    if (!(s = infer_config(path, &st, &config)) && !(s = cbct_nn_drunet_alloc(&config, &net))) {
        used = cbct_calloc((size_t)st.n_tensors, 1, "safetensors entries used");
        s = used ? load_weights(path, fp, &st, net, used) : CBCT_ERR_MEMORY;
    }
    cbct_free(used);
    cbct_nn_safetensors_free(&st);
    fclose(fp);
    if (s) {
        cbct_drunet_destroy(net);
        return s;
    }
    *out = net;
    return CBCT_OK;
}
