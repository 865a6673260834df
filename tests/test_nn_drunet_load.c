/* Loading DRUNet weights: a round trip through a safetensors file written
 * here from a random network (F32 and BF16, 2D and 3D), and the errors of
 * a broken checkpoint, each naming the tensor and the file: a missing
 * tensor, a wrong shape, an extra tensor, a truncated file, a NaN. Then
 * argument checks, allocation failures at every step, and the memory
 * budget against the peak model. */
#include "check.h"
#include "cbct/denoiser.h"
#include "nn/drunet_internal.h"

typedef struct {
    const char *skip;    /* tensor left out */
    const char *reshape; /* tensor whose first two dimensions are swapped */
    const char *rename_from, *rename_to;
    int extra_bias; /* adds m_head.bias */
    int bf16;       /* stores BF16 (truncated float32) */
    int nan_in_tail;
    size_t cut; /* bytes removed from the end */
} variant;

static void write_net(const cbct_drunet *net, const char *path, const variant *v)
{
    size_t cap = (size_t)(net->n_convs + 2) * 160 + 64, used = 0, data = 0;
    char *header = malloc(cap);
    used += (size_t)snprintf(header + used, cap - used, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t item = v->bf16 ? 2 : 4;
    for (int64_t i = 0; i < net->n_convs; i++) {
        const cbct_nn_conv *c = &net->convs[i];
        if (v->skip && strcmp(c->name, v->skip) == 0)
            continue;
        const char *name = v->rename_from && strcmp(c->name, v->rename_from) == 0
                               ? v->rename_to : c->name;
        int64_t shape[5];
        memcpy(shape, c->shape, sizeof shape);
        if (v->reshape && strcmp(c->name, v->reshape) == 0)
            shape[0] = c->shape[1], shape[1] = c->shape[0];
        char dims[96];
        used += (size_t)snprintf(header + used, cap - used,
                                 ",\"%s\":{\"dtype\":\"%s\",\"shape\":%s,"
                                 "\"data_offsets\":[%zu,%zu]}",
                                 name, v->bf16 ? "BF16" : "F32",
                                 cbct_nn_shape_text(shape, c->ndim, dims, sizeof dims), data,
                                 data + (size_t)c->numel * item);
        data += (size_t)c->numel * item;
    }
    if (v->extra_bias)
        used += (size_t)snprintf(header + used, cap - used, ",\"m_head.bias\":{\"dtype\":\"%s\","
                                 "\"shape\":[0],\"data_offsets\":[%zu,%zu]}",
                                 v->bf16 ? "BF16" : "F32", data, data);
    used += (size_t)snprintf(header + used, cap - used, "}");
    unsigned char *bytes = malloc(8 + used + data);
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)((uint64_t)used >> (8 * i));
    memcpy(bytes + 8, header, used);
    unsigned char *p = bytes + 8 + used;
    for (int64_t i = 0; i < net->n_convs; i++) {
        const cbct_nn_conv *c = &net->convs[i];
        if (v->skip && strcmp(c->name, v->skip) == 0)
            continue;
        for (int64_t k = 0; k < c->numel; k++) {
            float w = v->nan_in_tail && i == net->n_convs - 1 && k == 1 ? NAN : c->weight[k];
            uint32_t bits;
            memcpy(&bits, &w, 4);
            if (v->bf16) {
                uint16_t top = (uint16_t)(bits >> 16);
                memcpy(p, &top, 2);
            } else {
                memcpy(p, &bits, 4);
            }
            p += item;
        }
    }
    size_t total = 8 + used + data - v->cut;
    FILE *fp = fopen(path, "wb");
    CHECK(fp && fwrite(bytes, 1, total, fp) == total);
    if (fp)
        fclose(fp);
    free(bytes);
    free(header);
}

static const char *tmp_path(const char *name)
{
    static char path[2048];
    return check_tmpfile(name, path, sizeof path);
}

static void check_round_trip(const cbct_drunet_config *cfg)
{
    cbct_drunet *net = NULL, *back = NULL;
    CHECK_OK(cbct_drunet_create_random(cfg, 3, &net));
    const char *path = tmp_path("net.safetensors");
    write_net(net, path, &(variant){0});
    CHECK_OK(cbct_drunet_load(path, &back));
    if (!net || !back)
        goto done;
    const cbct_drunet_config *got = cbct_drunet_get_config(back);
    CHECK(got->dims == cfg->dims && got->in_channels == cfg->in_channels &&
          got->out_channels == cfg->out_channels && got->nb == cfg->nb &&
          memcmp(got->channels, cfg->channels, sizeof cfg->channels) == 0);
    CHECK(back->n_convs == net->n_convs);
    for (int64_t i = 0; i < net->n_convs && back->n_convs == net->n_convs; i++)
        CHECK_MSG(memcmp(back->convs[i].weight, net->convs[i].weight,
                         (size_t)net->convs[i].numel * sizeof(float)) == 0, "%s differs",
                  net->convs[i].name);
    /* Same weights, same outputs, bit for bit. */
    int64_t d = cfg->dims == 3 ? 9 : 1, numel = 2 * d * 11 * 13;
    float *in = malloc((size_t)numel * cfg->in_channels * sizeof *in);
    float *a = malloc((size_t)numel * cfg->out_channels * sizeof *a);
    float *b = malloc((size_t)numel * cfg->out_channels * sizeof *b);
    unsigned long long state = 9;
    for (int64_t i = 0; i < numel * cfg->in_channels; i++)
        in[i] = check_random(&state);
    CHECK_OK(cbct_drunet_apply(net, in, 2, d, 11, 13, 0.05f, a));
    CHECK_OK(cbct_drunet_apply(back, in, 2, d, 11, 13, 0.05f, b));
    CHECK(memcmp(a, b, (size_t)numel * cfg->out_channels * sizeof *a) == 0);
    if (cfg->in_channels == cfg->out_channels) { /* in place */
        memcpy(b, in, (size_t)numel * cfg->in_channels * sizeof *b);
        CHECK_OK(cbct_drunet_apply(back, b, 2, d, 11, 13, 0.05f, b));
        CHECK(memcmp(a, b, (size_t)numel * cfg->out_channels * sizeof *a) == 0);
    }
    free(in), free(a), free(b);
    cbct_drunet_destroy(back);
    back = NULL;

    /* BF16: the top 16 bits of every float32. */
    write_net(net, path, &(variant){.bf16 = 1});
    CHECK_OK(cbct_drunet_load(path, &back));
    int same = back != NULL;
    for (int64_t i = 0; back && i < net->n_convs; i++)
        for (int64_t k = 0; k < net->convs[i].numel; k++) {
            uint32_t bits;
            memcpy(&bits, &net->convs[i].weight[k], 4);
            bits &= 0xffff0000u;
            same &= memcmp(&bits, &back->convs[i].weight[k], 4) == 0;
        }
    CHECK_MSG(same, "BF16 weights differ");
done:
    cbct_drunet_destroy(back);
    cbct_drunet_destroy(net);
}

static void check_errors(void)
{
    cbct_drunet_config cfg = {3, 1, 1, {4, 6, 8, 10}, 2};
    cbct_drunet *net = NULL, *back = NULL;
    CHECK_OK(cbct_drunet_create_random(&cfg, 4, &net));
    if (!net)
        return;
    const char *path = tmp_path("broken.safetensors");
    write_net(net, path, &(variant){.skip = "m_down2.0.res.2.weight"});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT,
                "missing tensor 'm_down2.0.res.2.weight' (expected shape [6, 6, 3, 3, 3])");
    CHECK(strstr(cbct_last_error(), "broken.safetensors") != NULL);
    write_net(net, path, &(variant){.skip = "m_down3.2.weight"});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT, "'m_down3.2.weight'");
    write_net(net, path, &(variant){.skip = "m_head.weight"});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT, "not a DRUNet");
    write_net(net, path, &(variant){.reshape = "m_up2.0.weight"});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT,
                "tensor 'm_up2.0.weight' has shape [6, 8, 2, 2, 2]: expected [8, 6, 2, 2, 2]");
    /* The architecture comes from m_head: a swapped head shows as the next
     * tensor not fitting it. */
    write_net(net, path, &(variant){.reshape = "m_head.weight"});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT,
                "tensor 'm_down1.0.res.0.weight' has shape [4, 4, 3, 3, 3]: expected [2, 2, 3");
    write_net(net, path, &(variant){.extra_bias = 1});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT, "unexpected tensor 'm_head.bias'");
    write_net(net, path, &(variant){.cut = 10});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_FORMAT, "truncated file");
    write_net(net, path, &(variant){.nan_in_tail = 1});
    CHECK_FAILS(cbct_drunet_load(path, &back), CBCT_ERR_NUMERIC, "m_tail.weight");
    CHECK_FAILS(cbct_drunet_load("/nonexistent/net.safetensors", &back), CBCT_ERR_IO,
                "cannot open");
    CHECK(back == NULL);

    /* Arguments of apply. */
    float x[64] = {0}, y[64];
    CHECK_FAILS(cbct_drunet_apply(net, x, 0, 4, 4, 4, 0.1f, y), CBCT_ERR_ARG, "n = 0");
    CHECK_FAILS(cbct_drunet_apply(net, x, 1, 4, 4, 4, NAN, y), CBCT_ERR_ARG, "sigma");
    CHECK_FAILS(cbct_drunet_apply(net, NULL, 1, 4, 4, 4, 0.1f, y), CBCT_ERR_ARG, "buffer");
    CHECK_FAILS(cbct_drunet_apply(net, x, 1, 1 << 20, 1 << 20, 1 << 20, 0.1f, y), CBCT_ERR_ARG,
                "too large");
    CHECK(cbct_drunet_peak_bytes(net, 1, 0, 4, 4) == SIZE_MAX);
    cbct_drunet_destroy(net);
    cfg.dims = 2;
    CHECK_OK(cbct_drunet_create_random(&cfg, 4, &net));
    CHECK_FAILS(cbct_drunet_apply(net, x, 1, 2, 4, 4, 0.1f, y), CBCT_ERR_ARG, "d = 1");
    cfg.nb = 0;
    CHECK_FAILS(cbct_drunet_create_random(&cfg, 1, &back), CBCT_ERR_ARG, "nb = 0");
    cbct_drunet_destroy(net);
}

/* KAIR names the single body ResBlock of nb = 1 m_body.res.*; a plain
 * nn.Sequential names it m_body.0.res.*: both load. */
static void check_body_names(void)
{
    cbct_drunet_config cfg = {2, 1, 1, {2, 3, 4, 5}, 1};
    cbct_drunet *net = NULL, *back = NULL;
    CHECK_OK(cbct_drunet_create_random(&cfg, 5, &net));
    if (!net)
        return;
    CHECK(strcmp(net->convs[1 + 3 * 3].name, "m_body.res.0.weight") == 0);
    const char *path = tmp_path("body.safetensors");
    write_net(net, path, &(variant){.rename_from = "m_body.res.2.weight",
                                    .rename_to = "m_body.0.res.2.weight"});
    CHECK_OK(cbct_drunet_load(path, &back));
    cbct_drunet_destroy(back);
    cbct_drunet_destroy(net);
}

/* Every allocation may fail: a clean CBCT_ERR_MEMORY, nothing leaked. */
static void check_allocation_failures(void)
{
    cbct_drunet_config cfg = {3, 1, 1, {2, 3, 4, 5}, 1};
    cbct_drunet *net = NULL, *back = NULL;
    CHECK_OK(cbct_drunet_create_random(&cfg, 6, &net));
    if (!net)
        return;
    const char *path = tmp_path("alloc.safetensors");
    write_net(net, path, &(variant){0});
    float in[2 * 5 * 6 * 7], out[2 * 5 * 6 * 7];
    for (int i = 0; i < 2 * 5 * 6 * 7; i++)
        in[i] = (float)i / 420.0f;
    size_t before = cbct_mem_current();
    int load_failures = 0, apply_failures = 0;
    for (long k = 1; k <= 60; k++) {
        cbct_mem_fail_nth(k);
        cbct_status s = cbct_drunet_load(path, &back);
        cbct_mem_fail_nth(0);
        CHECK(s == CBCT_OK || s == CBCT_ERR_MEMORY);
        load_failures += s == CBCT_ERR_MEMORY;
        cbct_drunet_destroy(back);
        back = NULL;
        cbct_mem_fail_nth(k);
        s = cbct_drunet_apply(net, in, 2, 5, 6, 7, 0.1f, out);
        cbct_mem_fail_nth(0);
        CHECK(s == CBCT_OK || s == CBCT_ERR_MEMORY);
        apply_failures += s == CBCT_ERR_MEMORY;
        CHECK_MSG(cbct_mem_current() == before, "after failing allocation %ld: %zu bytes left",
                  k, cbct_mem_current() - before);
    }
    CHECK(load_failures >= 5 && apply_failures >= 10);

    /* The budget: the predicted peak fits exactly, one byte less does not. */
    size_t peak = cbct_drunet_peak_bytes(net, 2, 5, 6, 7);
    cbct_mem_set_budget(before + peak - 1);
    CHECK_FAILS(cbct_drunet_apply(net, in, 2, 5, 6, 7, 0.1f, out), CBCT_ERR_MEMORY, "budget");
    cbct_mem_set_budget(before + peak);
    CHECK_OK(cbct_drunet_apply(net, in, 2, 5, 6, 7, 0.1f, out));
    cbct_mem_set_budget(0);
    cbct_drunet_destroy(net);
}

int main(void)
{
    size_t before = cbct_mem_current();
    check_round_trip(&(cbct_drunet_config){3, 1, 1, {4, 6, 8, 10}, 2});
    check_round_trip(&(cbct_drunet_config){2, 3, 2, {3, 5, 7, 9}, 1});
    check_errors();
    check_body_names();
    check_allocation_failures();
    CHECK_MSG(cbct_mem_current() == before, "%zu tracked bytes leaked",
              cbct_mem_current() - before);
    return check_summary("test_nn_drunet_load");
}
