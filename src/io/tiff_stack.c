/* TIFF stacks: a volume as one single-page file per z-slice, named by a
 * printf pattern (`z_%04d.tif`, from index 0 or 1 up to the first gap) or
 * by a folder (every *.tif / *.tiff in it, sorted by name in byte order). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io/tiff_internal.h"

int cbct_tiff_is_pattern(const char *path)
{
    if (!path)
        return 0;
    int conversions = 0;
    for (const char *p = path; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        p++;
        while (*p == '0')
            p++;
        while (isdigit((unsigned char)*p))
            p++;
        if (*p != 'd' && *p != 'i' && *p != 'u')
            return 0; /* anything else is not a pattern we would pass to printf */
        conversions++;
    }
    return conversions == 1;
}

static int is_tiff_name(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' &&
           ((n > 4 && !strcasecmp(e->d_name + n - 4, ".tif")) ||
            (n > 5 && !strcasecmp(e->d_name + n - 5, ".tiff")));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The folder's TIFF names, sorted; *n_out of them (free each and the list). */
static cbct_status list_folder(const char *folder, struct dirent ***list, int *n_out)
{
    int n = scandir(folder, list, is_tiff_name, by_name);
    if (n < 0)
        return cbct_error(CBCT_ERR_IO, "cannot list the TIFF stack folder '%s': %s", folder,
                          strerror(errno));
    *n_out = n;
    return CBCT_OK;
}

static void free_list(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static cbct_status pattern_name(const char *pattern, int64_t index, char *buf, size_t cap)
{
    /* The pattern was checked: one integer conversion, nothing else. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = snprintf(buf, cap, pattern, (int)index);
#pragma GCC diagnostic pop
    if (n < 0 || (size_t)n >= cap)
        return cbct_error(CBCT_ERR_ARG, "TIFF stack pattern '%s': the name of slice %lld is too "
                          "long", pattern, (long long)index);
    return CBCT_OK;
}

cbct_status cbct_tiff_stack_file(const cbct_tiff_header *h, int64_t index, char *buf,
                                 size_t cap)
{
    if (!h->stack_is_folder)
        return pattern_name(h->source, h->first_index + index, buf, cap);
    struct dirent **list;
    int n;
    cbct_status s = list_folder(h->source, &list, &n);
    if (s)
        return s;
    if (index >= n)
        s = cbct_error(CBCT_ERR_IO, "TIFF stack folder '%s' now holds %d files, slice %lld is "
                       "missing (files removed since its header was read?)", h->source, n,
                       (long long)index);
    else if ((size_t)snprintf(buf, cap, "%s/%s", h->source, list[index]->d_name) >= cap)
        s = cbct_error(CBCT_ERR_ARG, "TIFF stack folder '%s': a file name is too long",
                       h->source);
    free_list(list, n);
    return s;
}

/* Files of a pattern stack: from index 0 (or 1) to the first gap. */
static cbct_status count_pattern(cbct_tiff_header *h)
{
    char name[CBCT_MHA_PATH_MAX + 64];
    cbct_status s;
    for (h->first_index = 0; h->first_index < 2; h->first_index++) {
        if ((s = pattern_name(h->source, h->first_index, name, sizeof name)))
            return s;
        if (access(name, F_OK) == 0)
            break;
    }
    if (h->first_index == 2)
        return cbct_error(CBCT_ERR_IO, "TIFF stack '%s': neither slice 0 nor slice 1 exists "
                          "(no file '%s')", h->source, name);
    /* An int index: printf's %d takes an int. */
    for (h->shape[0] = 1; h->first_index + h->shape[0] < INT32_MAX; h->shape[0]++) {
        if ((s = pattern_name(h->source, h->first_index + h->shape[0], name, sizeof name)))
            return s;
        if (access(name, F_OK) != 0)
            break;
    }
    return CBCT_OK;
}

cbct_status cbct_tiff_stack_read_header(const char *path, cbct_tiff_header *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", path);
    out->is_stack = 1;
    out->stack_is_folder = !cbct_tiff_is_pattern(path);
    size_t len = strlen(out->source);
    while (out->stack_is_folder && len > 1 && out->source[len - 1] == '/')
        out->source[--len] = '\0'; /* "slices/" and "slices" name the same folder */
    cbct_status s;
    if (out->stack_is_folder) {
        struct dirent **list;
        int n;
        if ((s = list_folder(out->source, &list, &n)))
            return s;
        free_list(list, n);
        if (n == 0)
            return cbct_error(CBCT_ERR_FORMAT, "TIFF stack folder '%s' holds no .tif or .tiff "
                              "file", out->source);
        out->shape[0] = n;
    } else if ((s = count_pattern(out))) {
        return s;
    }
    char first[CBCT_MHA_PATH_MAX + 256];
    if ((s = cbct_tiff_stack_file(out, 0, first, sizeof first)))
        return s;
    tiff_diag d;
    TIFF *t = cbct_tiff_open_file(first, &d);
    if (!t)
        return cbct_last_status();
    tiff_page p;
    s = cbct_tiff_page_info(t, first, 0, &p);
    if (!s) {
        out->shape[1] = p.rows;
        out->shape[2] = p.cols;
        out->element_type = p.type;
        out->has_spacing = cbct_tiff_page_grid(t, out->spacing, out->origin);
        if (TIFFReadDirectory(t))
            s = cbct_error(CBCT_ERR_FORMAT, "'%s' (first file of TIFF stack '%s') has more than "
                           "one page: expected one z-slice per file", first, out->source);
    }
    TIFFClose(t);
    return s;
}
