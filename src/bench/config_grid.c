/* The points of a grid of runs: for each point, the overrides that set its
 * values (the form `cbct recon --set` takes) and a short stable id made
 * from the values that vary ("max_batch_size-10"), used as the name of the
 * point's results folder by `cbct bench`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"
#include "config_grid_scan.h"

/* Ids longer than this are cut and given a hash of the whole, to stay a
 * readable folder name that is still unique and stable. */
#define ID_CUT 80

static char *copy_text(const char *text)
{
    size_t n = strlen(text) + 1;
    char *c = cbct_alloc(n, "grid text");
    if (c)
        memcpy(c, text, n);
    return c;
}

/* The characters of a value that are safe in a folder name: "[8, 256, 256]"
 * -> "8x256x256", "\"gpu:2\"" -> "gpu-2". */
static void id_value(const char *yaml, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *c = yaml; *c && n + 1 < cap; c++) {
        if (strchr("[]{}\" '", *c))
            continue;
        char o = *c == ',' ? 'x' : *c == ':' ? '-' : *c;
        int safe = (o >= 'a' && o <= 'z') || (o >= 'A' && o <= 'Z') || (o >= '0' && o <= '9') ||
                   o == '.' || o == '-' || o == '+';
        out[n++] = safe ? o : '_';
    }
    out[n] = 0;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a 32-bit offset basis and prime */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static const char *leaf(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* Whether key k of axis a takes more than one value. */
static cbct_status axis_key_varies(cfg_doc *d, const grid_axis *a, int k, int *varies)
{
    char first[GRID_VALUE_MAX], other[GRID_VALUE_MAX];
    cbct_status s = grid_value_text(d, a->values[k], first, sizeof first);
    *varies = 0;
    for (int r = 1; s == CBCT_OK && r < a->n_rows && !*varies; r++) {
        s = grid_value_text(d, a->values[r * a->n_keys + k], other, sizeof other);
        *varies = strcmp(first, other) != 0;
    }
    return s;
}

/* The varying key paths, and for each the label used in ids (the last
 * part of the path, or the whole path when two share it). */
static cbct_status find_varying(cfg_doc *d, const grid_scan *sc, cbct_config_grid *g,
                                int (*which)[2])
{
    int n = 0;
    g->varying = cbct_calloc(GRID_MAX_AXES * GRID_MAX_KEYS, sizeof *g->varying, "grid keys");
    if (!g->varying)
        return cbct_last_status();
    for (int a = 0; a < sc->n_axes; a++)
        for (int k = 0; k < sc->axes[a].n_keys; k++) {
            int varies;
            cbct_status s = axis_key_varies(d, &sc->axes[a], k, &varies);
            if (s != CBCT_OK)
                return s;
            if (!varies)
                continue;
            if (!(g->varying[n] = copy_text(sc->axes[a].paths[k])))
                return cbct_last_status();
            which[n][0] = a;
            which[n][1] = k;
            g->n_varying = ++n;
        }
    return CBCT_OK;
}

static void make_id(cfg_doc *d, const grid_scan *sc, const cbct_config_grid *g,
                    const int (*which)[2], int point, char *id)
{
    char full[4096] = "", value[GRID_VALUE_MAX], clean[GRID_VALUE_MAX];
    size_t len = 0;
    for (int v = 0; v < g->n_varying; v++) {
        const grid_axis *a = &sc->axes[which[v][0]];
        int row = grid_row(sc, which[v][0], point), k = which[v][1];
        if (grid_value_text(d, a->values[row * a->n_keys + k], value, sizeof value) != CBCT_OK)
            value[0] = 0;
        id_value(value, clean, sizeof clean);
        const char *label = leaf(g->varying[v]);
        for (int u = 0; u < g->n_varying; u++)
            if (u != v && strcmp(leaf(g->varying[u]), label) == 0)
                label = g->varying[v];
        char part[GRID_PATH_MAX + GRID_VALUE_MAX];
        snprintf(part, sizeof part, "%s%s-%s", v ? "_" : "", label, clean);
        snprintf(full + len, sizeof full - len, "%s", part);
        len = strlen(full);
    }
    if (!full[0] && g->n_points == 1)
        snprintf(full, sizeof full, "run");
    else if (!full[0])
        snprintf(full, sizeof full, "point-%d", point);
    if (strlen(full) >= CBCT_GRID_ID_MAX)
        snprintf(full + ID_CUT, sizeof full - ID_CUT, "-%08x", (unsigned)fnv1a(full));
    size_t n = strlen(full) < CBCT_GRID_ID_MAX ? strlen(full) : CBCT_GRID_ID_MAX - 1;
    memcpy(id, full, n);
    id[n] = 0;
}

static cbct_status make_point(cfg_doc *d, const grid_scan *sc, int point, cbct_grid_point *p)
{
    int n = 0;
    for (int a = 0; a < sc->n_axes; a++)
        n += sc->axes[a].n_keys;
    p->overrides = cbct_calloc((size_t)(n ? n : 1), sizeof *p->overrides, "grid overrides");
    if (!p->overrides)
        return cbct_last_status();
    for (int a = 0; a < sc->n_axes; a++)
        for (int k = 0; k < sc->axes[a].n_keys; k++) {
            char text[GRID_PATH_MAX + GRID_VALUE_MAX];
            cbct_status s = grid_override_text(d, &sc->axes[a], grid_row(sc, a, point), k, text,
                                               sizeof text);
            if (s != CBCT_OK)
                return s;
            if (!(p->overrides[p->n_overrides] = copy_text(text)))
                return cbct_last_status();
            p->n_overrides++;
        }
    return CBCT_OK;
}

static cbct_status expand(cfg_doc *d, const grid_scan *sc, cbct_config_grid *g)
{
    int(*which)[2] = cbct_calloc(GRID_MAX_AXES * GRID_MAX_KEYS, sizeof *which, "grid keys");
    g->n_points = sc->n_points;
    g->is_grid = sc->is_grid;
    g->points = cbct_calloc((size_t)sc->n_points, sizeof *g->points, "grid points");
    cbct_status s = which && g->points ? find_varying(d, sc, g, which) : cbct_last_status();
    for (int i = 0; s == CBCT_OK && i < g->n_points; i++) {
        s = make_point(d, sc, i, &g->points[i]);
        make_id(d, sc, g, (const int(*)[2])which, i, g->points[i].id);
    }
    /* Equal rows give equal ids: the later ones get their index. */
    for (int i = 0; s == CBCT_OK && i < g->n_points; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(g->points[i].id, g->points[j].id) == 0) {
                char suffix[16];
                int n = snprintf(suffix, sizeof suffix, "-%d", i);
                size_t at = strlen(g->points[i].id);
                if (at + (size_t)n >= CBCT_GRID_ID_MAX)
                    at = CBCT_GRID_ID_MAX - 1 - (size_t)n;
                snprintf(g->points[i].id + at, CBCT_GRID_ID_MAX - at, "%s", suffix);
                break;
            }
    cbct_free(which);
    return s;
}

cbct_status cbct_config_grid_parse(const char *text, size_t len, const char *name,
                                   const char *const *overrides, int n_overrides,
                                   cbct_config_grid *out)
{
    memset(out, 0, sizeof *out);
    cfg_doc d;
    grid_scan sc;
    cbct_status s = cfg_load(&d, text, len, name);
    if (s != CBCT_OK)
        return s;
    for (int i = 0; s == CBCT_OK && i < n_overrides; i++)
        s = cfg_override(&d, overrides[i]);
    if (s == CBCT_OK)
        s = grid_scan_document(&d, &sc);
    if (s == CBCT_OK) {
        s = expand(&d, &sc, out);
        grid_scan_free(&sc);
    }
    cfg_free(&d);
    if (s != CBCT_OK)
        cbct_config_grid_free(out);
    return s;
}

cbct_status cbct_config_grid_load(const char *path, const char *const *overrides,
                                  int n_overrides, cbct_config_grid *out)
{
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    /* A config is a few kB; 1 MiB stops a wrong file early (as config_load.c). */
    cbct_status s = cbct_read_text_file(path, (size_t)1 << 20, &text, &len);
    if (s != CBCT_OK)
        return s;
    const char *base = strrchr(path, '/');
    s = cbct_config_grid_parse(text, len, base ? base + 1 : path, overrides, n_overrides, out);
    free(text);
    return s;
}

void cbct_config_grid_free(cbct_config_grid *g)
{
    for (int i = 0; g->points && i < g->n_points; i++) {
        for (int k = 0; k < g->points[i].n_overrides; k++)
            cbct_free(g->points[i].overrides[k]);
        cbct_free(g->points[i].overrides);
    }
    for (int v = 0; g->varying && v < g->n_varying; v++)
        cbct_free(g->varying[v]);
    cbct_free(g->varying);
    cbct_free(g->points);
    memset(g, 0, sizeof *g);
}
