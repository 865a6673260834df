/* Shared by the PNG writers (not part of the public API). */
#ifndef CBCT_IO_PNG_INTERNAL_H
#define CBCT_IO_PNG_INTERNAL_H

#include "cbct/core.h"

/* libpng refuses images wider or taller than this by default
 * (PNG_USER_WIDTH_MAX, PNG_USER_HEIGHT_MAX). */
#define CBCT_PNG_MAX_SIDE 1000000

/* CBCT_ERR_ARG naming `path` unless 1 <= height, width <= CBCT_PNG_MAX_SIDE. */
cbct_status cbct_png_check_size(const char *path, int64_t height, int64_t width);

#endif
