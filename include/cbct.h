/* cbct: cone-beam CT reconstruction. One include for the whole public API. */
#ifndef CBCT_H
#define CBCT_H

#include "cbct/core.h"
#include "cbct/geometry.h"
#include "cbct/projector.h"
#include "cbct/fdk.h"
#include "cbct/phantom.h"
#include "cbct/metrics.h"
#include "cbct/io.h"
#include "cbct/denoiser.h"
#include "cbct/dist.h"
#include "cbct/solver.h"
#include "cbct/config.h"

#endif
