/* Fault-injection sweeps of the writers and readers (tests/fault_sweep.h):
 * every output operation of writing a .npy, a .mha, a .mhd + .raw, PNG
 * previews and a geometry JSON fails in turn, and so does every tracked
 * allocation of writing and reading them back. Each failure must be a
 * clear error that frees everything and leaves no file at all. */
#include "cbct/geometry.h"
#include "cbct/io.h"
#include "fault_sweep.h"

typedef struct {
    cbct_array volume;    /* 6 x 5 x 4, values 0..1 */
    cbct_geometry geom;   /* 8 views, 6 x 10 detector */
    char input_npy[2048]; /* written once, for the read paths */
    char input_mha[2048];
    char input_json[2048];
} fixtures;

static cbct_status write_npy(const char *folder, void *user)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v.npy", folder);
    return cbct_npy_write(path, &((fixtures *)user)->volume);
}

static cbct_status write_mha(const char *folder, void *user)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v.mha", folder);
    return cbct_volume_write(path, &((fixtures *)user)->volume);
}

/* Two files (.raw then .mhd): a failure of the second removes the first. */
static cbct_status write_mhd(const char *folder, void *user)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v.mhd", folder);
    return cbct_volume_write(path, &((fixtures *)user)->volume);
}

/* A slab-by-slab write, as the chunked commands do. */
static cbct_status write_npy_slabs(const char *folder, void *user)
{
    const cbct_array *v = &((fixtures *)user)->volume;
    char path[4096];
    snprintf(path, sizeof path, "%s/slabs.npy", folder);
    cbct_npy_writer w;
    cbct_status s = cbct_npy_writer_open(path, v->shape, &w);
    int64_t slice = v->shape[1] * v->shape[2];
    for (int64_t z = 0; !s && z < v->shape[0]; z += 2) {
        int64_t n = v->shape[0] - z < 2 ? v->shape[0] - z : 2;
        s = cbct_npy_writer_write(&w, v->data + z * slice, n);
    }
    if (!s)
        s = cbct_npy_writer_commit(&w);
    cbct_npy_writer_abort(&w); /* a no-op after commit or a failure */
    return s;
}

/* Two previews; when the second fails the first is removed, as `cbct
 * recon` removes the outputs of a failed run. */
static cbct_status write_png(const char *folder, void *user)
{
    const cbct_array *v = &((fixtures *)user)->volume;
    const cbct_array *const pair[2] = {v, v};
    char axial[4096], coronal[4096];
    snprintf(axial, sizeof axial, "%s/axial.png", folder);
    snprintf(coronal, sizeof coronal, "%s/coronal.png", folder);
    cbct_status s = cbct_png_write_slices(axial, pair, 2, CBCT_SLICE_AXIAL, 0, 1);
    if (s)
        return s;
    s = cbct_png_write_slices(coronal, pair, 2, CBCT_SLICE_CORONAL, 0, 1);
    if (s)
        unlink(axial);
    return s;
}

static cbct_status write_geometry(const char *folder, void *user)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/g.json", folder);
    return cbct_geometry_write_json(path, &((fixtures *)user)->geom);
}

static cbct_status read_npy(const char *folder, void *user)
{
    cbct_array a = {0};
    cbct_status s = cbct_npy_read(((fixtures *)user)->input_npy, &a);
    cbct_array_destroy(&a);
    return s;
}

static cbct_status read_mha(const char *folder, void *user)
{
    cbct_array a = {0};
    cbct_status s = cbct_volume_read(((fixtures *)user)->input_mha, &a);
    cbct_array_destroy(&a);
    return s;
}

static cbct_status read_geometry(const char *folder, void *user)
{
    cbct_geometry g;
    cbct_status s = cbct_geometry_read_json(((fixtures *)user)->input_json, &g);
    cbct_geometry_destroy(&g);
    return s;
}

static void make_fixtures(fixtures *f)
{
    memset(f, 0, sizeof *f);
    CHECK_OK(cbct_array_create(&f->volume, 6, 5, 4, "test volume"));
    for (int64_t i = 0; i < cbct_array_numel(&f->volume); i++)
        f->volume.data[i] = (float)(i % 7) / 6.0f;
    cbct_circular c = {.n_views = 8, .arc_rad = 6.283185307179586, .sod_mm = 100,
                       .sdd_mm = 200, .det_rows = 6, .det_cols = 10, .pixel_mm = {1, 1}};
    CHECK_OK(cbct_geometry_circular(&c, &f->geom));
    CHECK_OK(cbct_volume_geom_fit(&f->geom, 6, 5, 4, &f->geom.vol));
    check_tmpfile("fault_input.npy", f->input_npy, sizeof f->input_npy);
    check_tmpfile("fault_input.mha", f->input_mha, sizeof f->input_mha);
    check_tmpfile("fault_input.json", f->input_json, sizeof f->input_json);
    CHECK_OK(cbct_npy_write(f->input_npy, &f->volume));
    CHECK_OK(cbct_volume_write(f->input_mha, &f->volume));
    CHECK_OK(cbct_geometry_write_json(f->input_json, &f->geom));
}

int main(void)
{
    fixtures f;
    make_fixtures(&f);
    size_t before = cbct_mem_current();

    struct {
        const char *name;
        fault_path_fn path;
    } writers[] = {
        {"write_npy", write_npy},     {"write_npy_slabs", write_npy_slabs},
        {"write_mha", write_mha},     {"write_mhd", write_mhd},
        {"write_png", write_png},     {"write_geometry", write_geometry},
    };
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_io", writers[i].name);
        CHECK(fault_sweep(name, FAULT_WRITE, writers[i].path, NULL, &f, CBCT_ERR_IO) >= 4);
    }
    /* Allocations: only the paths that make tracked ones (the writers of
     * .npy, .mha and geometry stream from the caller's memory). */
    CHECK(fault_sweep("write_png_alloc", FAULT_ALLOC, write_png, NULL, &f, CBCT_ERR_MEMORY) >= 2);
    CHECK(fault_sweep("read_npy_alloc", FAULT_ALLOC, read_npy, NULL, &f, CBCT_ERR_MEMORY) >= 1);
    CHECK(fault_sweep("read_mha_alloc", FAULT_ALLOC, read_mha, NULL, &f, CBCT_ERR_MEMORY) >= 1);
    CHECK(fault_sweep("read_geometry_alloc", FAULT_ALLOC, read_geometry, NULL, &f,
                      CBCT_ERR_MEMORY) >= 1);

    CHECK(cbct_mem_current() == before);
    cbct_array_destroy(&f.volume);
    cbct_geometry_destroy(&f.geom);
    unlink(f.input_npy);
    unlink(f.input_mha);
    unlink(f.input_json);
    return check_summary("test_fault_io");
}
