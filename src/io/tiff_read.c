/* Reading TIFF volumes: a multi-page file (one page per z-slice) from disk
 * or memory, or a stack of single-page files (tiff_stack.c), as float32. */
#include <string.h>
#include <sys/stat.h>

#include "io/tiff_internal.h"

/* Walks every page of `t`: all must have the first page's size and type. */
static cbct_status scan_pages(TIFF *t, const char *name, cbct_tiff_header *out)
{
    tiff_page first, p;
    cbct_status s = cbct_tiff_page_info(t, name, 0, &first);
    if (s)
        return s;
    out->has_spacing = cbct_tiff_page_grid(t, out->spacing, out->origin);
    int64_t pages = 1;
    while (TIFFReadDirectory(t)) {
        if ((s = cbct_tiff_page_info(t, name, pages, &p)))
            return s;
        if (p.rows != first.rows || p.cols != first.cols || p.type != first.type)
            return cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld is %u x %u %s, page 0 %u x %u "
                              "%s: expected every page (z-slice) alike", name, (long long)pages,
                              p.rows, p.cols, cbct_element_type_name(p.type), first.rows,
                              first.cols, cbct_element_type_name(first.type));
        pages++;
    }
    out->shape[0] = pages;
    out->shape[1] = first.rows;
    out->shape[2] = first.cols;
    out->element_type = first.type;
    return CBCT_OK;
}

cbct_status cbct_tiff_parse(const void *bytes, size_t n_bytes, const char *name,
                            cbct_tiff_header *out)
{
    memset(out, 0, sizeof *out);
    tiff_memory m = {bytes, n_bytes, 0};
    tiff_diag d;
    TIFF *t = cbct_tiff_open_memory(&m, name, &d);
    if (!t)
        return cbct_last_status();
    cbct_status s = scan_pages(t, name, out);
    TIFFClose(t);
    return s;
}

cbct_status cbct_tiff_decode(const void *bytes, size_t n_bytes, const char *name,
                             int64_t max_values, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_tiff_header h;
    cbct_status s = cbct_tiff_parse(bytes, n_bytes, name, &h);
    if (s)
        return s;
    if (h.shape[0] > max_values / h.shape[1] / h.shape[2])
        return cbct_error(CBCT_ERR_FORMAT, "'%s': %lld pages of %lld x %lld pixels exceed the "
                          "limit of %lld values", name, (long long)h.shape[0],
                          (long long)h.shape[1], (long long)h.shape[2], (long long)max_values);
    if ((s = cbct_array_create(out, h.shape[0], h.shape[1], h.shape[2], name)))
        return s;
    tiff_memory m = {bytes, n_bytes, 0};
    tiff_diag d;
    TIFF *t = cbct_tiff_open_memory(&m, name, &d);
    if (!t)
        s = cbct_last_status();
    size_t plane = (size_t)h.shape[1] * (size_t)h.shape[2];
    tiff_page p = {(uint32_t)h.shape[1], (uint32_t)h.shape[2], h.element_type};
    for (int64_t z = 0; !s && z < h.shape[0]; z++) {
        if (z > 0 && !TIFFReadDirectory(t))
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': page %lld vanished%s", name, (long long)z,
                           cbct_tiff_said(&d));
        if (!s)
            s = cbct_tiff_read_page(t, name, z, &p, &d, out->data + (size_t)z * plane);
    }
    if (t)
        TIFFClose(t);
    if (s)
        cbct_array_destroy(out);
    else {
        memcpy(out->spacing, h.spacing, sizeof out->spacing);
        memcpy(out->origin, h.origin, sizeof out->origin);
    }
    return s;
}

int cbct_tiff_is_stack(const char *path)
{
    struct stat st;
    return path && (cbct_tiff_is_pattern(path) || (path[0] && path[strlen(path) - 1] == '/') ||
                    (stat(path, &st) == 0 && S_ISDIR(st.st_mode)));
}

cbct_status cbct_tiff_read_header(const char *path, cbct_tiff_header *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->source)
        return cbct_error(CBCT_ERR_ARG, "TIFF name '%.64s...' is too long (%zu characters, at "
                          "most %zu)", path, strlen(path), sizeof out->source - 1);
    if (cbct_tiff_is_stack(path))
        return cbct_tiff_stack_read_header(path, out);
    tiff_diag d;
    TIFF *t = cbct_tiff_open_file(path, &d);
    if (!t)
        return cbct_last_status();
    cbct_status s = scan_pages(t, path, out);
    TIFFClose(t);
    if (s)
        memset(out, 0, sizeof *out);
    else
        snprintf(out->source, sizeof out->source, "%s", path);
    return s;
}

/* Pages [first, first + count) of one multi-page file. */
static cbct_status read_pages(const cbct_tiff_header *h, int64_t first, int64_t count,
                              float *dst)
{
    tiff_diag d;
    TIFF *t = cbct_tiff_open_file(h->source, &d);
    if (!t)
        return cbct_last_status();
    cbct_status s = CBCT_OK;
    if (first > (int64_t)UINT32_MAX - 1 || !TIFFSetDirectory(t, (tdir_t)first))
        s = cbct_error(CBCT_ERR_FORMAT, "'%s': page %lld cannot be reached (file changed since "
                       "its header was read?)%s", h->source, (long long)first,
                       cbct_tiff_said(&d));
    size_t plane = (size_t)h->shape[1] * (size_t)h->shape[2];
    tiff_page p;
    for (int64_t k = 0; !s && k < count; k++) {
        if (k > 0 && !TIFFReadDirectory(t)) {
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': page %lld is missing (truncated file?)%s",
                           h->source, (long long)(first + k), cbct_tiff_said(&d));
            break;
        }
        s = cbct_tiff_page_info(t, h->source, first + k, &p);
        if (!s && (p.rows != h->shape[1] || p.cols != h->shape[2] || p.type != h->element_type))
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': page %lld differs from the header read "
                           "before (file changed?)", h->source, (long long)(first + k));
        if (!s)
            s = cbct_tiff_read_page(t, h->source, first + k, &p, &d, dst + (size_t)k * plane);
    }
    TIFFClose(t);
    return s;
}

static cbct_status read_stack(const cbct_tiff_header *h, int64_t first, int64_t count,
                              float *dst)
{
    char name[CBCT_MHA_PATH_MAX + 256];
    size_t plane = (size_t)h->shape[1] * (size_t)h->shape[2];
    cbct_status s = CBCT_OK;
    for (int64_t k = 0; !s && k < count; k++) {
        if ((s = cbct_tiff_stack_file(h, first + k, name, sizeof name)))
            break;
        tiff_diag d;
        TIFF *t = cbct_tiff_open_file(name, &d);
        if (!t)
            return cbct_last_status();
        tiff_page p;
        s = cbct_tiff_page_info(t, name, 0, &p);
        if (!s && (p.rows != h->shape[1] || p.cols != h->shape[2] || p.type != h->element_type))
            s = cbct_error(CBCT_ERR_FORMAT, "'%s' (slice %lld of stack '%s') is %u x %u %s: "
                           "expected %lld x %lld %s like the first file", name,
                           (long long)(first + k), h->source, p.rows, p.cols,
                           cbct_element_type_name(p.type), (long long)h->shape[1],
                           (long long)h->shape[2], cbct_element_type_name(h->element_type));
        if (!s)
            s = cbct_tiff_read_page(t, name, 0, &p, &d, dst + (size_t)k * plane);
        TIFFClose(t);
    }
    return s;
}

cbct_status cbct_tiff_read_slices(const cbct_tiff_header *h, int64_t first, int64_t count,
                                  float *dst)
{
    if (h->shape[0] <= 0 || h->shape[1] <= 0 || h->shape[2] <= 0 || !h->source[0])
        return cbct_error(CBCT_ERR_ARG, "the TIFF header passed in is not valid");
    if (first < 0 || count < 0 || first > h->shape[0] - count)
        return cbct_error(CBCT_ERR_ARG, "'%s': slices [%lld, %lld) are outside the %lld "
                          "z-slices of the image", h->source, (long long)first,
                          (long long)(first + count), (long long)h->shape[0]);
    if (count == 0)
        return CBCT_OK;
    return h->is_stack ? read_stack(h, first, count, dst) : read_pages(h, first, count, dst);
}

cbct_status cbct_tiff_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_tiff_header *h = cbct_alloc(sizeof *h, "TIFF header");
    if (!h)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    cbct_status s = cbct_tiff_read_header(path, h);
    if (!s)
        s = cbct_array_create(out, h->shape[0], h->shape[1], h->shape[2], path);
    if (!s) {
        memcpy(out->spacing, h->spacing, sizeof out->spacing);
        memcpy(out->origin, h->origin, sizeof out->origin);
        if ((s = cbct_tiff_read_slices(h, 0, h->shape[0], out->data)))
            cbct_array_destroy(out);
    }
    cbct_free(h);
    return s;
}
