/* Replays the fuzz targets (tests/fuzz) in the normal suite, so that the
 * sanitizer build checks them too: every file of every seed corpus and
 * every saved crash (tests/fuzz/regressions/<parser>/) goes through every
 * parser; each corpus file is also cut at every length (ASan then sees
 * any read past the end); the crashes found have their expected errors. */
#include <dirent.h>

#include "check.h"
#include "cbct/geometry.h"
#include "fuzz/fuzz.h"

/* Files larger than this are not fuzz inputs (the corpora hold a few KB). */
#define MAX_INPUT_BYTES ((size_t)1 << 20)

static const char *source_dir(void)
{
    const char *s = getenv("CBCT_SOURCE_DIR");
    return s && *s ? s : ".";
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    unsigned char *buf = malloc(MAX_INPUT_BYTES);
    *size = buf ? fread(buf, 1, MAX_INPUT_BYTES, fp) : 0;
    fclose(fp);
    return buf;
}

/* `data` copied into a block of exactly `size` bytes, so that ASan flags a
 * read one byte past it. */
static void run_exact(const cbct_fuzz_target *t, const unsigned char *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    t->run(copy, size);
    free(copy);
}

/* Runs every file of `folder` through every target (and, when `prefixes`,
 * every prefix of it through `own`). Returns the number of files. */
static int replay_folder(const char *folder, const cbct_fuzz_target *own, int prefixes)
{
    DIR *d = opendir(folder);
    if (!d)
        return 0;
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        size_t size = 0;
        unsigned char *data = read_file(path, &size);
        CHECK_MSG(data != NULL, "cannot read %s", path);
        if (!data)
            continue;
        long before = cbct_fuzz_failures();
        for (const cbct_fuzz_target *t = cbct_fuzz_targets; t->name; t++)
            run_exact(t, data, size);
        for (size_t n = 0; prefixes && n < size; n++)
            run_exact(own, data, n);
        CHECK_MSG(cbct_fuzz_failures() == before, "%s broke an invariant (above)", path);
        files++;
        free(data);
    }
    closedir(d);
    return files;
}

static void test_replay(void)
{
    const char *src = source_dir();
    for (const cbct_fuzz_target *t = cbct_fuzz_targets; t->name; t++) {
        char folder[4096];
        snprintf(folder, sizeof folder, "%s/tests/fuzz/corpus/%s", src, t->name);
        int seeds = replay_folder(folder, t, 1);
        CHECK_MSG(seeds >= 3, "%s: %d seed files (expected a corpus)", folder, seeds);
        snprintf(folder, sizeof folder, "%s/tests/fuzz/regressions/%s", src, t->name);
        replay_folder(folder, t, 1);
    }
    /* Every regressions/ folder must belong to a target (a typo would skip
     * its files silently). */
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/tests/fuzz/regressions", src);
    DIR *d = opendir(folder);
    CHECK_MSG(d != NULL, "no folder %s", folder);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int known = 0;
        for (const cbct_fuzz_target *t = cbct_fuzz_targets; t->name; t++)
            known |= strcmp(t->name, e->d_name) == 0;
        CHECK_MSG(known, "tests/fuzz/regressions/%s: no fuzz target of that name", e->d_name);
    }
    if (d)
        closedir(d);
}

/* The crashes found, each with the error it must now give. */
static void test_found_crashes(void)
{
    char path[4096];
    size_t size = 0;
    snprintf(path, sizeof path, "%s/tests/fuzz/regressions/geometry_json/circular_views_1e9",
             source_dir());
    unsigned char *data = read_file(path, &size);
    CHECK(data != NULL);
    if (data) {
        data[size < MAX_INPUT_BYTES ? size : MAX_INPUT_BYTES - 1] = '\0';
        cbct_geometry g;
        CHECK_FAILS(cbct_geometry_parse_json((const char *)data, "v.json", &g), CBCT_ERR_FORMAT,
                    "\"circular.views\" must be at most 1000000");
        free(data);
    }
    /* A header line of blanks at the very end of the bytes given (strspn
     * read past them): now a clean "no ElementDataFile". */
    static const char blank_end[] = "NDims = 3\n\t\t\t";
    char *exact = malloc(sizeof blank_end - 1);
    memcpy(exact, blank_end, sizeof blank_end - 1);
    cbct_mha_header h;
    CHECK_FAILS(cbct_mha_parse_header(exact, sizeof blank_end - 1, "b.mha", &h), CBCT_ERR_FORMAT,
                "no ElementDataFile");
    free(exact);
}

int main(void)
{
    cbct_fuzz_set_abort(0);
    test_replay();
    test_found_crashes();
    CHECK(cbct_fuzz_failures() == 0);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fuzz_regressions");
}
