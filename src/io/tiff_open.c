/* Opening TIFF files, descriptors and buffers with libtiff's messages
 * captured per file (TIFFOpenOptions, libtiff >= 4.5) instead of printed:
 * the library prints nothing, and our error quotes libtiff's reason. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/tiff_internal.h"

static int capture(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)t;
    (void)module;
    tiff_diag *d = user;
    vsnprintf(d->last, sizeof d->last, fmt, ap);
    return 1; /* handled: libtiff's global handler (stderr) is not called */
}

static int ignore(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)t, (void)user, (void)module, (void)fmt, (void)ap;
    return 1; /* warnings (unknown tags, ...) are not errors: drop them */
}

const char *cbct_tiff_said(const tiff_diag *d)
{
    static _Thread_local char text[sizeof d->last + 16];
    if (!d->last[0])
        return "";
    snprintf(text, sizeof text, " (libtiff: %s)", d->last);
    return text;
}

void cbct_tiff_capture_into(TIFFOpenOptions *o, tiff_diag *d)
{
    d->last[0] = '\0';
    TIFFOpenOptionsSetErrorHandlerExtR(o, capture, d);
    TIFFOpenOptionsSetWarningHandlerExtR(o, ignore, d);
}

static TIFFOpenOptions *options(tiff_diag *d)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (o)
        cbct_tiff_capture_into(o, d);
    else
        d->last[0] = '\0';
    return o;
}

TIFF *cbct_tiff_open_file(const char *path, tiff_diag *d)
{
    FILE *probe = fopen(path, "rb"); /* a clear "No such file" before libtiff's text */
    if (!probe) {
        cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    fclose(probe);
    TIFFOpenOptions *o = options(d);
    if (!o) {
        cbct_error(CBCT_ERR_MEMORY, "cannot open '%s': out of memory", path);
        return NULL;
    }
    TIFF *t = TIFFOpenExt(path, "r", o);
    TIFFOpenOptionsFree(o);
    if (!t)
        cbct_error(CBCT_ERR_FORMAT, "'%s' is not a TIFF file cbct can read%s", path,
                   cbct_tiff_said(d));
    return t;
}

TIFF *cbct_tiff_open_fd_write(int fd, const char *name, tiff_diag *d)
{
    TIFFOpenOptions *o = options(d);
    TIFF *t = o ? TIFFFdOpenExt(fd, name, "w", o) : NULL;
    TIFFOpenOptionsFree(o);
    if (!t)
        cbct_error(CBCT_ERR_IO, "cannot write TIFF '%s'%s", name, cbct_tiff_said(d));
    return t;
}

/* ---- A read-only buffer behind TIFFClientOpen ---- */

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    tiff_memory *m = (tiff_memory *)h;
    if (n <= 0 || m->pos >= m->size)
        return 0;
    uint64_t left = m->size - m->pos;
    uint64_t k = (uint64_t)n < left ? (uint64_t)n : left;
    memcpy(buf, m->bytes + m->pos, (size_t)k);
    m->pos += k;
    return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h, (void)buf, (void)n;
    return -1;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    tiff_memory *m = (tiff_memory *)h;
    uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->size : 0;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return (toff_t)-1;
    /* toff_t is unsigned: libtiff passes offsets from the start or forward. */
    if (off > UINT64_MAX - base)
        return (toff_t)-1;
    m->pos = base + off; /* past the end is allowed; reads there return 0 */
    return (toff_t)m->pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h)
{
    return (toff_t)((tiff_memory *)h)->size;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    (void)h, (void)base, (void)size;
    return 0; /* no mapping: libtiff reads through mem_read */
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h, (void)base, (void)size;
}

TIFF *cbct_tiff_open_memory(tiff_memory *m, const char *name, tiff_diag *d)
{
    TIFFOpenOptions *o = options(d);
    if (!o) {
        cbct_error(CBCT_ERR_MEMORY, "cannot read '%s': out of memory", name);
        return NULL;
    }
    m->pos = 0;
    /* "rm": no memory mapping (the procs above say so anyway). */
    TIFF *t = TIFFClientOpenExt(name, "rm", (thandle_t)m, mem_read, mem_write, mem_seek,
                                mem_close, mem_size, mem_map, mem_unmap, o);
    TIFFOpenOptionsFree(o);
    if (!t)
        cbct_error(CBCT_ERR_FORMAT, "'%s' is not a TIFF file cbct can read%s", name,
                   cbct_tiff_said(d));
    return t;
}
