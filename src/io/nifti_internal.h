/* Shared by the NIfTI-1 reader and writer (not public API). */
#ifndef CBCT_IO_NIFTI_INTERNAL_H
#define CBCT_IO_NIFTI_INTERNAL_H

#include "cbct/io.h"

/* NIfTI-1: a 348-byte header, then 4 bytes of extension flags, so the data
 * of a file with no extensions start at byte 352. */
#define NIFTI1_HEADER_BYTES 348
#define NIFTI1_DATA_OFFSET 352

/* The 352 bytes before the data of a float32 little-endian .nii holding a
 * (nz, ny, nx) volume with the given grid (sform and qform both say it;
 * units mm). */
void cbct_nifti_format_header(const int64_t shape[3], const double spacing[3],
                              const double origin[3], unsigned char out[NIFTI1_DATA_OFFSET]);

#endif
