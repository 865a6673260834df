/* Small 3-vector helpers (double, world coordinates x, y, z). */
#ifndef CBCT_CT_VEC3_H
#define CBCT_CT_VEC3_H

#include <math.h>

static inline double vec3_dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void vec3_cross(const double a[3], const double b[3], double out[3])
{
    double x = a[1] * b[2] - a[2] * b[1];
    double y = a[2] * b[0] - a[0] * b[2];
    double z = a[0] * b[1] - a[1] * b[0];
    out[0] = x;
    out[1] = y;
    out[2] = z;
}

static inline void vec3_sub(const double a[3], const double b[3], double out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = a[k] - b[k];
}

static inline void vec3_scale(const double a[3], double s, double out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = a[k] * s;
}

static inline double vec3_norm(const double a[3]) { return sqrt(vec3_dot(a, a)); }

#endif
