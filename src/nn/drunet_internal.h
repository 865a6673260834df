/* The DRUNet object shared by the files of src/nn (not public).
 *
 * The network is a list of convolutions in the order the forward pass
 * uses them, each with the parameter name of the PyTorch implementation
 * (KAIR's UNetRes / deepinv's DRUNet, bias=False everywhere):
 *
 *   m_head                     conv 3x3(x3), in+1 -> c0
 *   m_down{1,2,3}.{i}.res.{0,2}  nb ResBlocks at c_l: x + conv(relu(conv(x)))
 *   m_down{1,2,3}.{nb}          stride-2 conv 2x2(x2), c_l -> c_{l+1}
 *   m_body.{i}.res.{0,2}        nb ResBlocks at c3 (m_body.res.{0,2} when nb = 1:
 *                               KAIR's sequential() unwraps a single module)
 *   m_up{3,2,1}.0               transposed conv 2x2(x2), c_{l+1} -> c_l
 *   m_up{3,2,1}.{1+i}.res.{0,2}  nb ResBlocks at c_l
 *   m_tail                     conv 3x3(x3), c0 -> out
 *
 * forward: x1 = head(x); x2 = down1(x1); x3 = down2(x2); x4 = down3(x3);
 *          x = body(x4); x = up3(x + x4); x = up2(x + x3); x = up1(x + x2);
 *          out = tail(x + x1). */
#ifndef CBCT_NN_DRUNET_INTERNAL_H
#define CBCT_NN_DRUNET_INTERNAL_H

#include "cbct/denoiser.h"
#include "nn/tensor.h"

/* Longest parameter name ("m_down3.1000.res.2.weight" fits). */
#define CBCT_NN_NAME_MAX 48
/* Limits that keep every size product far inside 64 bits. */
#define CBCT_NN_MAX_CHANNELS 65536
#define CBCT_NN_MAX_BLOCKS 1000
/* Bytes cbct_alloc adds to every block (its header, src/core/alloc.c);
 * the peak model counts them so that it matches cbct_mem_peak(). */
#define CBCT_NN_ALLOC_OVERHEAD 64

typedef enum {
    CBCT_NN_CONV3 = 0, /* 3x3(x3) convolution, padding 1 */
    CBCT_NN_DOWN2,     /* 2x2(x2) convolution, stride 2 */
    CBCT_NN_UP2        /* 2x2(x2) transposed convolution, stride 2 */
} cbct_nn_layer_kind;

typedef struct cbct_nn_conv {
    char name[CBCT_NN_NAME_MAX]; /* the PyTorch parameter name */
    cbct_nn_layer_kind kind;
    int64_t c_in, c_out;
    int ndim;          /* of the weight: 4 (2D) or 5 (3D) */
    int64_t shape[5];  /* as PyTorch stores it (transposed: in before out) */
    int64_t numel;
    float *weight;     /* inside cbct_drunet.weights */
} cbct_nn_conv;

struct cbct_drunet {
    cbct_drunet_config config;
    cbct_nn_kernel kernel;
    int64_t n_convs;
    cbct_nn_conv *convs; /* forward order, see above */
    float *weights;      /* all weights, one tracked block */
};

/* Number of convolutions of a configuration: head, tail, 3 down, 3 up and
 * 2 per ResBlock in 7 stages. */
int64_t cbct_nn_drunet_conv_count(const cbct_drunet_config *config);
/* Checks a configuration (CBCT_ERR_ARG naming the bad field). */
cbct_status cbct_nn_drunet_check_config(const cbct_drunet_config *config);
/* Allocates a network with names and shapes for `config`, weights
 * uninitialised. */
cbct_status cbct_nn_drunet_alloc(const cbct_drunet_config *config, cbct_drunet **out);
/* x0 (n, in + 1, D, H, W) = the input (n, in, d, h, w) replicated up to
 * (D, H, W), and the constant noise-level channel sigma. */
void cbct_nn_fill_input(const float *in, int64_t in_channels, int64_t d, int64_t h, int64_t w,
                        float sigma, cbct_nn_tensor *x0);
/* out (n, c, d, h, w) = the first (d, h, w) of padded (n, c, D, H, W). */
void cbct_nn_crop_output(const cbct_nn_tensor *padded, int64_t d, int64_t h, int64_t w,
                         float *out);
/* "[64, 2, 3, 3, 3]" */
const char *cbct_nn_shape_text(const int64_t *shape, int ndim, char *buf, size_t len);

#endif
