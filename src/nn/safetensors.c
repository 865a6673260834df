/* Parsing the safetensors header with cJSON. Every value is checked before
 * it is used: the header length against the file, each number for being a
 * non-negative integer that a double holds exactly, each byte range against
 * the data section, the size of each range against its shape and dtype. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/safetensors.h"

/* Largest integer a JSON number (a double) holds exactly: 2^53. */
#define JSON_MAX_EXACT_INT 9007199254740992.0
/* Longest tensor name accepted (PyTorch names are under 100 characters). */
#define ST_MAX_NAME_BYTES 1024

size_t cbct_nn_st_item_bytes(cbct_nn_st_dtype dtype)
{
    switch (dtype) {
    case CBCT_NN_ST_F32: return 4;
    case CBCT_NN_ST_F16: return 2;
    case CBCT_NN_ST_BF16: return 2;
    case CBCT_NN_ST_F64: return 8;
    }
    return 0;
}

const char *cbct_nn_st_dtype_name(cbct_nn_st_dtype dtype)
{
    switch (dtype) {
    case CBCT_NN_ST_F32: return "F32";
    case CBCT_NN_ST_F16: return "F16";
    case CBCT_NN_ST_BF16: return "BF16";
    case CBCT_NN_ST_F64: return "F64";
    }
    return "?";
}

void cbct_nn_safetensors_free(cbct_nn_safetensors *st)
{
    if (!st)
        return;
    for (int64_t i = 0; i < st->n_tensors; i++)
        cbct_free(st->tensors[i].name);
    cbct_free(st->tensors);
    memset(st, 0, sizeof *st);
}

int64_t cbct_nn_safetensors_find(const cbct_nn_safetensors *st, const char *tensor_name)
{
    for (int64_t i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, tensor_name) == 0)
            return i;
    return -1;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_uint(const cJSON *item, uint64_t *value)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= JSON_MAX_EXACT_INT) || floor(v) != v)
        return 0;
    *value = (uint64_t)v;
    return 1;
}

static cbct_status parse_dtype(const char *file, const char *tensor, const cJSON *item,
                               cbct_nn_st_dtype *dtype)
{
    static const struct {
        const char *text;
        cbct_nn_st_dtype dtype;
    } known[] = {{"F32", CBCT_NN_ST_F32}, {"F16", CBCT_NN_ST_F16},
                 {"BF16", CBCT_NN_ST_BF16}, {"F64", CBCT_NN_ST_F64}};
    if (!cJSON_IsString(item))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has no \"dtype\" string", file,
                          tensor);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(item->valuestring, known[i].text) == 0) {
            *dtype = known[i].dtype;
            return CBCT_OK;
        }
    }
    return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has dtype '%.16s': expected F32, F16, "
                      "BF16 or F64", file, tensor, item->valuestring);
}

static cbct_status parse_shape(const char *file, const char *tensor, const cJSON *item,
                               cbct_nn_st_tensor *t)
{
    if (!cJSON_IsArray(item))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has no \"shape\" array", file,
                          tensor);
    int ndim = cJSON_GetArraySize(item);
    if (ndim > CBCT_NN_ST_MAX_DIMS)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has %d dimensions: at most %d "
                          "are supported", file, tensor, ndim, CBCT_NN_ST_MAX_DIMS);
    t->ndim = 0;
    t->numel = 1;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, item) {
        uint64_t v;
        if (!json_uint(dim, &v))
            return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s': shape entry %d is not a "
                              "non-negative integer", file, tensor, t->ndim);
        /* Keep numel * 8 bytes inside int64_t. */
        if (v && (uint64_t)t->numel > (uint64_t)(INT64_MAX / 8) / v)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s': the shape overflows 64 bits",
                              file, tensor);
        t->shape[t->ndim++] = (int64_t)v;
        t->numel *= (int64_t)v;
    }
    return CBCT_OK;
}

static cbct_status parse_offsets(const char *file, const char *tensor, const cJSON *item,
                                 uint64_t data_bytes, cbct_nn_st_tensor *t)
{
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 ||
        !json_uint(cJSON_GetArrayItem(item, 0), &t->begin) ||
        !json_uint(cJSON_GetArrayItem(item, 1), &t->end) || t->begin > t->end)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s': \"data_offsets\" is not "
                          "[begin, end] with 0 <= begin <= end", file, tensor);
    uint64_t expected = (uint64_t)t->numel * cbct_nn_st_item_bytes(t->dtype);
    if (t->end - t->begin != expected)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' has %llu bytes of data: its "
                          "shape and dtype %s need %llu", file, tensor,
                          (unsigned long long)(t->end - t->begin), cbct_nn_st_dtype_name(t->dtype),
                          (unsigned long long)expected);
    if (t->end > data_bytes)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' ends at data byte %llu but the "
                          "file holds %llu bytes of data: truncated file", file, tensor,
                          (unsigned long long)t->end, (unsigned long long)data_bytes);
    return CBCT_OK;
}

static cbct_status check_name(const char *file, const char *tensor)
{
    size_t len = strlen(tensor);
    if (len == 0 || len > ST_MAX_NAME_BYTES)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': a tensor name is empty or longer than %d "
                          "bytes", file, ST_MAX_NAME_BYTES);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)tensor[i] < 0x20 || tensor[i] == 0x7f)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': a tensor name contains a control "
                              "character", file);
    return CBCT_OK;
}

static cbct_status parse_entry(const char *file, const cJSON *entry, uint64_t data_bytes,
                               cbct_nn_st_tensor *t)
{
    const char *tensor = entry->string;
    cbct_status s = check_name(file, tensor);
    if (s)
        return s;
    if (!cJSON_IsObject(entry))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the entry of tensor '%s' is not an object",
                          file, tensor);
    if ((s = parse_dtype(file, tensor, cJSON_GetObjectItemCaseSensitive(entry, "dtype"),
                         &t->dtype)) ||
        (s = parse_shape(file, tensor, cJSON_GetObjectItemCaseSensitive(entry, "shape"), t)) ||
        (s = parse_offsets(file, tensor,
                           cJSON_GetObjectItemCaseSensitive(entry, "data_offsets"), data_bytes,
                           t)))
        return s;
    size_t len = strlen(tensor);
    t->name = cbct_alloc(len + 1, "safetensors tensor name");
    if (!t->name)
        return CBCT_ERR_MEMORY;
    memcpy(t->name, tensor, len + 1);
    return CBCT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const cbct_nn_st_tensor *const *)a)->name,
                  (*(const cbct_nn_st_tensor *const *)b)->name);
}

static int by_begin(const void *a, const void *b)
{
    const cbct_nn_st_tensor *x = *(const cbct_nn_st_tensor *const *)a;
    const cbct_nn_st_tensor *y = *(const cbct_nn_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

/* Unique names and disjoint byte ranges (empty tensors take no bytes). */
static cbct_status check_unique(const char *file, const cbct_nn_safetensors *st)
{
    if (st->n_tensors < 2)
        return CBCT_OK;
    const cbct_nn_st_tensor **order =
        cbct_alloc((size_t)st->n_tensors * sizeof *order, "safetensors index");
    if (!order)
        return CBCT_ERR_MEMORY;
    for (int64_t i = 0; i < st->n_tensors; i++)
        order[i] = &st->tensors[i];
    cbct_status s = CBCT_OK;
    qsort(order, (size_t)st->n_tensors, sizeof *order, by_name);
    for (int64_t i = 1; i < st->n_tensors && !s; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': tensor '%s' appears twice in the header",
                           file, order[i]->name);
    qsort(order, (size_t)st->n_tensors, sizeof *order, by_begin);
    const cbct_nn_st_tensor *last = NULL; /* the non-empty range ending last so far */
    for (int64_t i = 0; i < st->n_tensors && !s; i++) {
        if (order[i]->begin == order[i]->end)
            continue;
        if (last && order[i]->begin < last->end)
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': the data of tensors '%s' and '%s' overlap",
                           file, last->name, order[i]->name);
        if (!last || order[i]->end > last->end)
            last = order[i];
    }
    cbct_free(order);
    return s;
}

static cbct_status parse_root(const char *file, const cJSON *root, uint64_t data_bytes,
                              cbct_nn_safetensors *out)
{
    if (!cJSON_IsObject(root))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the safetensors header is not a JSON object",
                          file);
    int64_t count = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root) {
        if (strcmp(entry->string, "__metadata__") != 0)
            count++;
        else if (!cJSON_IsObject(entry))
            return cbct_error(CBCT_ERR_FORMAT, "'%s': \"__metadata__\" is not an object", file);
    }
    if (count) {
        out->tensors = cbct_calloc((size_t)count, sizeof *out->tensors, "safetensors entries");
        if (!out->tensors)
            return CBCT_ERR_MEMORY;
    }
    cJSON_ArrayForEach(entry, root) {
        if (strcmp(entry->string, "__metadata__") == 0)
            continue;
        cbct_status s = parse_entry(file, entry, data_bytes, &out->tensors[out->n_tensors]);
        if (s)
            return s;
        out->n_tensors++;
    }
    return check_unique(file, out);
}

cbct_status cbct_nn_safetensors_header_length(const void *bytes, size_t n_bytes,
                                              uint64_t file_bytes, const char *name,
                                              uint64_t *header_len)
{
    const unsigned char *p = bytes;
    *header_len = 0;
    if (file_bytes < 8 || n_bytes < 8)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': %llu bytes: too short for a safetensors file "
                          "(an 8-byte header length, a JSON header, data)", name,
                          (unsigned long long)file_bytes);
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--)
        len = len << 8 | p[i];
    if (len < 2 || len > CBCT_NN_ST_MAX_HEADER_BYTES)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': header length %llu: expected 2 to %llu bytes "
                          "(not a safetensors file?)", name, (unsigned long long)len,
                          (unsigned long long)CBCT_NN_ST_MAX_HEADER_BYTES);
    if (len > file_bytes - 8)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': header length %llu exceeds the %llu bytes "
                          "after it: truncated file", name, (unsigned long long)len,
                          (unsigned long long)(file_bytes - 8));
    *header_len = len;
    return CBCT_OK;
}

cbct_status cbct_nn_safetensors_parse(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                      const char *name, cbct_nn_safetensors *out)
{
    memset(out, 0, sizeof *out);
    uint64_t header_len;
    cbct_status s = cbct_nn_safetensors_header_length(bytes, n_bytes, file_bytes, name,
                                                      &header_len);
    if (s)
        return s;
    if (header_len > n_bytes - 8)
        return cbct_error(CBCT_ERR_ARG, "'%s': only %zu of the %llu header bytes were given",
                          name, n_bytes, (unsigned long long)(8 + header_len));
    const char *text = (const char *)bytes + 8;
    if (memchr(text, '\0', (size_t)header_len))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the header contains a NUL byte", name);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)header_len, &end, 0);
    if (!root)
        /* On failure cJSON points `end` at the error (its global error
         * pointer is not thread-safe). */
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the header is not valid JSON (near byte %lld)",
                          name, (long long)(end ? end - text : 0) + 8);
    /* The format allows spaces after the JSON object, nothing else. */
    for (const char *q = end; q && q < text + header_len; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            cJSON_Delete(root);
            return cbct_error(CBCT_ERR_FORMAT, "'%s': unexpected bytes after the JSON header at "
                              "byte %lld", name, (long long)(q - text) + 8);
        }
    }
    out->data_start = 8 + header_len;
    out->data_bytes = file_bytes - out->data_start;
    s = parse_root(name, root, out->data_bytes, out);
    cJSON_Delete(root);
    if (s)
        cbct_nn_safetensors_free(out);
    return s;
}
