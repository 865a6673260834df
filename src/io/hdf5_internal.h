/* Shared by the HDF5 reader and writer (not public API). */
#ifndef CBCT_IO_HDF5_INTERNAL_H
#define CBCT_IO_HDF5_INTERNAL_H

#include <hdf5.h>

#include "cbct/io.h"

/* Switches off HDF5's printing of its error stack (process-wide, as HDF5
 * keeps it; done before every call into HDF5 from cbct). */
void cbct_hdf5_quiet(void);
/* The innermost message of HDF5's current error stack, or "" (static
 * thread-local text, for the message of a cbct_error). */
const char *cbct_hdf5_said(void);

#endif
