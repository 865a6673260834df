/* DRUNet objects: random initialisation, configuration, kernel choice. */
#include <math.h>

#include "nn/drunet_internal.h"

/* Standard deviation of the random weights relative to 1 / sqrt(fan_in):
 * small enough that 4 * nb residual additions keep activations of order 1
 * (deepinv initialises DRUNet with a similar gain of 0.2). */
#define RANDOM_WEIGHT_GAIN 0.5

/* splitmix64: a full-period generator that needs no state but a counter. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

cbct_status cbct_drunet_create_random(const cbct_drunet_config *config, uint64_t seed,
                                      cbct_drunet **out)
{
    if (!out)
        return cbct_error(CBCT_ERR_ARG, "cbct_drunet_create_random: no output pointer");
    cbct_drunet *net;
    cbct_status s = cbct_nn_drunet_alloc(config, &net);
    if (s)
        return s;
    uint64_t state = seed;
    for (int64_t i = 0; i < net->n_convs; i++) {
        cbct_nn_conv *c = &net->convs[i];
        /* Inputs summed into one output: a transposed stride-2 layer adds
         * one tap per input channel. */
        int64_t fan_in = c->kind == CBCT_NN_UP2 ? c->c_in : c->numel / c->c_out;
        double half_width = RANDOM_WEIGHT_GAIN * sqrt(3.0 / (double)fan_in);
        for (int64_t k = 0; k < c->numel; k++) {
            double u = (double)(splitmix64(&state) >> 11) / 9007199254740992.0; /* [0, 1) */
            c->weight[k] = (float)((2.0 * u - 1.0) * half_width);
        }
    }
    *out = net;
    return CBCT_OK;
}

void cbct_drunet_destroy(cbct_drunet *net)
{
    if (!net)
        return;
    cbct_free(net->weights);
    cbct_free(net->convs);
    cbct_free(net);
}

const cbct_drunet_config *cbct_drunet_get_config(const cbct_drunet *net)
{
    return net ? &net->config : NULL;
}

void cbct_drunet_set_kernel(cbct_drunet *net, cbct_nn_kernel kernel)
{
    if (net && (kernel == CBCT_NN_KERNEL_FAST || kernel == CBCT_NN_KERNEL_REFERENCE ||
                kernel == CBCT_NN_KERNEL_DIRECT))
        net->kernel = kernel;
}
