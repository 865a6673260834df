/* A procedural walnut: a test object for sparse-view reconstruction with
 * sharp edges and detail at several scales (shell wrinkles and pores, a thin
 * septum, folded kernel lobes). Every voxel is a pure function of its
 * centre and of a model drawn once from the seed, so the volume is the same
 * bytes for any thread count.
 *
 * Shape, in units of R0 = 0.4 x the smallest extent of the volume, around
 * the volume centre, long axis z. With e = q / axes, u = |e| is an
 * ellipsoidal radius and n = e / u a direction; from outside in:
 *   shell      u in [s_in(n), s_out(n)], s_out = 1 + bumps - grooves + seam
 *   air gap    u in (envelope(n), s_in(n)), 0.04 .. 0.10 wide
 *   septum     a thin wavy wall near x = 0, inside the envelope
 *   cleft      air on both sides of the septum, splitting the kernel
 *   kernel     u <= envelope(n) - folds(n), two halves, cut by thin
 *              fissures in its outer part */
#include <math.h>

#include "ct/phantom_internal.h"
#include "ct/vec3.h"

/* Geometry (units of R0). The shell's largest radius is 1 + BUMP_AMP +
 * SEAM_HEIGHT = 1.06 R0 = 0.424 x the extent: inside the volume. */
#define WALNUT_EXTENT_FRACTION 0.4 /* R0 / smallest extent: fills ~80% */
#define BUMP_AMP 0.035             /* low-order bumps of the whole shell */
#define WRINKLE_DEPTH 0.045        /* furrows carved into the outer surface */
#define WRINKLE_WIDTH 0.2          /* of the wrinkle field: narrow furrows */
#define SEAM_HEIGHT 0.025          /* ridge along the suture, the plane x = 0 */
#define SEAM_HALF_WIDTH 0.05       /* in |n_x|, about 3 degrees */
#define SHELL_THICKNESS 0.10       /* ~5% of the walnut's diameter */
#define GAP_MEAN 0.07
#define GAP_VARIATION 0.03         /* gap >= 0.04: a couple of voxels at 128^3 */
#define FOLD_DEPTH 0.14            /* depth of the kernel's grooves */
#define FOLD_WIDTH 0.4             /* of the fold field: wide grooves */
#define SEPTUM_HALF_WIDTH 0.01
#define CLEFT_HALF_WIDTH 0.04      /* air between the halves, septum included */
#define SEPTUM_WAVE_AMP 0.03       /* < CLEFT_HALF_WIDTH: the halves never touch */
#define FISSURE_HALF_WIDTH 0.025   /* of the fissure field: thin air sheets */
#define FISSURE_START 0.4          /* fissures only beyond this fraction of the envelope */
#define N_PORES 20                 /* small voids inside the shell */
#define MAX_WAVES 8

/* Attenuation (1/mm): wood-like, shell denser than kernel, denser outside. */
#define MU_SHELL_INNER 0.046
#define MU_SHELL_OUTER 0.056
#define MU_SEPTUM 0.040
#define MU_KERNEL 0.028
#define MU_KERNEL_TEXTURE 0.004

/* f(x) = sum amp cos(freq (dir . x) + phase), sum |amp| = 1, so f in [-1, 1];
 * smooth on the sphere when x is a direction (no pole like in angles). */
typedef struct walnut_field {
    int n_waves;
    double dir[MAX_WAVES][3];
    double freq[MAX_WAVES];
    double phase[MAX_WAVES];
    double amp[MAX_WAVES];
} walnut_field;

typedef struct walnut_model {
    double axes[3];           /* semi-axes x, y, z (R0) */
    walnut_field bumps;       /* large-scale shape of the shell */
    walnut_field wrinkles;    /* grooves of the outer surface */
    walnut_field gap;         /* width of the air gap */
    walnut_field folds;       /* grooves of the kernel */
    walnut_field septum_wave; /* of the septum, over (y, z) */
    walnut_field fissures;    /* thin air sheets inside the kernel, over positions */
    walnut_field texture;     /* kernel density, over positions */
    double pore_centre[N_PORES][3];
    double pore_radius2[N_PORES];
} walnut_model;

/* splitmix64 (Steele, Lea, Flood 2014): small, and the same on every
 * platform, unlike rand(). */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state, double lo, double hi)
{
    double unit = (double)(splitmix64(state) >> 11) * 0x1.0p-53; /* [0, 1) */
    return lo + (hi - lo) * unit;
}

static void unit_vector(uint64_t *state, double out[3])
{
    for (;;) { /* rejection from the cube: uniform on the sphere */
        for (int k = 0; k < 3; k++)
            out[k] = uniform(state, -1, 1);
        double r2 = vec3_dot(out, out);
        if (r2 > 1e-6 && r2 <= 1) {
            vec3_scale(out, 1.0 / sqrt(r2), out);
            return;
        }
    }
}

static void field_draw(walnut_field *f, uint64_t *state, int n_waves, double freq_lo,
                       double freq_hi)
{
    const double two_pi = 2.0 * acos(-1.0);
    double total = 0;
    f->n_waves = n_waves;
    for (int i = 0; i < n_waves; i++) {
        unit_vector(state, f->dir[i]);
        f->freq[i] = uniform(state, freq_lo, freq_hi);
        f->phase[i] = uniform(state, 0, two_pi);
        f->amp[i] = uniform(state, 0.5, 1.0);
        total += f->amp[i];
    }
    for (int i = 0; i < n_waves; i++)
        f->amp[i] /= total;
}

static double field_at(const walnut_field *f, const double x[3])
{
    double sum = 0;
    for (int i = 0; i < f->n_waves; i++)
        sum += f->amp[i] * cos(f->freq[i] * vec3_dot(f->dir[i], x) + f->phase[i]);
    return sum;
}

/* A V-shaped groove along the zero line of a field: 1 where the field is 0,
 * falling linearly to 0 where |field| reaches `width`. */
static double groove(double field, double width)
{
    double t = 1.0 - fabs(field) / width;
    return t > 0 ? t : 0;
}

static void walnut_draw(walnut_model *m, uint64_t seed)
{
    uint64_t state = seed;
    /* Slightly elongated along z. */
    m->axes[0] = uniform(&state, 0.84, 0.90);
    m->axes[1] = uniform(&state, 0.84, 0.90);
    m->axes[2] = 1.0;
    /* Frequencies in radians per unit of direction or R0. */
    field_draw(&m->bumps, &state, 5, 1.5, 3.5);
    field_draw(&m->wrinkles, &state, 7, 15, 30);
    field_draw(&m->gap, &state, 3, 1.0, 3.0);
    field_draw(&m->folds, &state, 6, 5, 10);
    field_draw(&m->septum_wave, &state, 2, 2, 4);
    field_draw(&m->fissures, &state, 5, 4, 8);
    field_draw(&m->texture, &state, 4, 6, 14);
    for (int i = 0; i < N_PORES; i++) {
        double n[3];
        unit_vector(&state, n);
        /* Halfway through the shell band that no groove reaches. */
        double u = 1 + BUMP_AMP * field_at(&m->bumps, n) -
                   0.5 * (SHELL_THICKNESS + WRINKLE_DEPTH);
        for (int k = 0; k < 3; k++)
            m->pore_centre[i][k] = n[k] * u * m->axes[k];
        double r = uniform(&state, 0.012, 0.028);
        m->pore_radius2[i] = r * r;
    }
}

static int in_pore(const walnut_model *m, const double q[3])
{
    for (int i = 0; i < N_PORES; i++) {
        double d[3];
        vec3_sub(q, m->pore_centre[i], d);
        if (vec3_dot(d, d) < m->pore_radius2[i])
            return 1;
    }
    return 0;
}

/* Attenuation (1/mm) at q (units of R0, relative to the walnut's centre). */
static float walnut_value(const walnut_model *m, const double q[3])
{
    double e[3] = {q[0] / m->axes[0], q[1] / m->axes[1], q[2] / m->axes[2]};
    double u = vec3_norm(e);
    if (u > 1 + BUMP_AMP + SEAM_HEIGHT)
        return 0;
    double n[3] = {0, 0, 1};
    if (u > 0)
        vec3_scale(e, 1.0 / u, n);
    double base = 1 + BUMP_AMP * field_at(&m->bumps, n);
    double s_in = base - SHELL_THICKNESS;
    if (u >= s_in) {
        double seam = fabs(n[0]) < SEAM_HALF_WIDTH ? 1 - fabs(n[0]) / SEAM_HALF_WIDTH : 0;
        double s_out = base - WRINKLE_DEPTH * groove(field_at(&m->wrinkles, n), WRINKLE_WIDTH) +
                       SEAM_HEIGHT * seam;
        if (u > s_out || in_pore(m, q))
            return 0;
        double depth = (u - s_in) / (s_out - s_in);
        return (float)(MU_SHELL_INNER + (MU_SHELL_OUTER - MU_SHELL_INNER) * depth);
    }
    double envelope = s_in - (GAP_MEAN + GAP_VARIATION * field_at(&m->gap, n));
    if (u > envelope)
        return 0;
    double yz[3] = {0, q[1], q[2]};
    double off = fabs(q[0] - SEPTUM_WAVE_AMP * field_at(&m->septum_wave, yz));
    if (off <= SEPTUM_HALF_WIDTH)
        return (float)MU_SEPTUM;
    if (off <= CLEFT_HALF_WIDTH)
        return 0;
    if (u > envelope - FOLD_DEPTH * groove(field_at(&m->folds, n), FOLD_WIDTH))
        return 0;
    if (u > FISSURE_START * envelope && fabs(field_at(&m->fissures, q)) < FISSURE_HALF_WIDTH)
        return 0;
    return (float)(MU_KERNEL + MU_KERNEL_TEXTURE * field_at(&m->texture, q));
}

cbct_status cbct_phantom_walnut(const cbct_volume_geom *vg, uint64_t seed, float *vol)
{
    return cbct_phantom_walnut_rows(vg, seed, 0, vg ? vg->shape[0] : 0, vol);
}

cbct_status cbct_phantom_walnut_rows(const cbct_volume_geom *vg, uint64_t seed, int64_t z0,
                                     int64_t rows, float *vol)
{
    if (!vol)
        return cbct_error(CBCT_ERR_ARG, "walnut phantom: output volume is NULL");
    cbct_status st = cbct_phantom_check_volume(vg, "walnut phantom");
    if (st)
        return st;
    if (z0 < 0 || rows < 0 || z0 + rows > vg->shape[0])
        return cbct_error(CBCT_ERR_ARG, "walnut phantom: rows [%lld, %lld) outside the "
                          "volume's %lld", (long long)z0, (long long)(z0 + rows),
                          (long long)vg->shape[0]);
    walnut_model model;
    walnut_draw(&model, seed);
    const int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    double extent = INFINITY;
    for (int a = 0; a < 3; a++)
        extent = fmin(extent, (double)vg->shape[a] * vg->voxel_size[a]);
    const double r0_mm = WALNUT_EXTENT_FRACTION * extent;

    /* Voxel centres in units of R0 from the volume centre, per axis. */
    double *coords = cbct_alloc((size_t)(nz + ny + nx) * sizeof(double), "walnut coordinates");
    if (!coords)
        return CBCT_ERR_MEMORY;
    double *zs = coords, *ys = zs + nz, *xs = ys + ny;
    const int64_t n_axis[3] = {nz, ny, nx};
    double *table[3] = {zs, ys, xs};
    for (int a = 0; a < 3; a++)
        for (int64_t i = 0; i < n_axis[a]; i++)
            table[a][i] = ((double)i - 0.5 * (double)n_axis[a] + 0.5) * vg->voxel_size[a] / r0_mm;

    const size_t slice_voxels = (size_t)ny * (size_t)nx;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t iz = z0; iz < z0 + rows; iz++) {
        float *slice = vol + (size_t)(iz - z0) * slice_voxels;
        for (int64_t iy = 0; iy < ny; iy++)
            for (int64_t ix = 0; ix < nx; ix++) {
                double q[3] = {xs[ix], ys[iy], zs[iz]};
                slice[(size_t)iy * (size_t)nx + (size_t)ix] = walnut_value(&model, q);
            }
    }
    cbct_free(coords);
    return CBCT_OK;
}
