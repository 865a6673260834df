/* Fuzz target: the safetensors header (cbct_nn_safetensors_parse), the
 * input being the whole file. An accepted file must list tensors whose
 * bytes lie inside the data section and match their shapes; those are
 * converted to float32 as the DRUNet loader does. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nn/safetensors.h"

static void check_tensor(const cbct_nn_safetensors *st, const cbct_nn_st_tensor *t,
                         const uint8_t *data, size_t size)
{
    if (t->begin > t->end || t->end > st->data_bytes)
        cbct_fuzz_fail("safetensors", "tensor bytes outside the data section");
    if (t->ndim < 0 || t->ndim > CBCT_NN_ST_MAX_DIMS || t->numel < 0)
        cbct_fuzz_fail("safetensors", "bad ndim or numel accepted");
    if ((uint64_t)t->numel * cbct_nn_st_item_bytes(t->dtype) != t->end - t->begin)
        cbct_fuzz_fail("safetensors", "byte size does not match the shape");
    if (cbct_nn_safetensors_find(st, t->name) != t - st->tensors)
        cbct_fuzz_fail("safetensors", "name not found, or found twice");
    /* The whole file was given, so the tensor's bytes are in `data`. */
    if (st->data_start + t->end > size) {
        cbct_fuzz_fail("safetensors", "tensor beyond the end of the file");
        return;
    }
    /* Conversion of small tensors only (a fuzzed file is small anyway). */
    if (t->numel > 0 && t->numel <= (1 << 16)) {
        float *out = malloc((size_t)t->numel * sizeof *out);
        if (out) {
            cbct_nn_st_to_f32(t->dtype, data + st->data_start + t->begin, t->numel, out);
            free(out);
        }
    }
}

int cbct_fuzz_safetensors(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    cbct_nn_safetensors st;
    cbct_clear_error();
    cbct_status s = cbct_nn_safetensors_parse(data, size, size, "fuzz.safetensors", &st);
    cbct_fuzz_check_status("safetensors", s);
    if (s == CBCT_OK) {
        if (st.data_start > size || st.data_start + st.data_bytes != size)
            cbct_fuzz_fail("safetensors", "data section does not end at the end of the file");
        for (int64_t i = 0; i < st.n_tensors; i++)
            check_tensor(&st, &st.tensors[i], data, size);
    } else if (st.tensors || st.n_tensors) {
        cbct_fuzz_fail("safetensors", "a failed parse left tensors behind");
    }
    cbct_nn_safetensors_free(&st);
    cbct_fuzz_check_memory("safetensors", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_safetensors)
