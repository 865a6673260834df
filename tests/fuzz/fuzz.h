/* The fuzz targets: one function per parser that takes arbitrary bytes,
 * runs the parser's in-memory entry point and checks what must hold after
 * it (a failure has a status and a message, a success has sane values, the
 * tracked memory is back where it was). Each tests/fuzz/fuzz_<parser>.c
 * defines its target; built with CBCT_FUZZ_MAIN (the CBCT_FUZZ=ON build)
 * it also defines libFuzzer's entry point. test_fuzz_regressions.c links
 * all of them without it and replays the corpus and the crashes found. */
#ifndef CBCT_TESTS_FUZZ_H
#define CBCT_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "cbct/core.h"

typedef int (*cbct_fuzz_fn)(const uint8_t *data, size_t size);

typedef struct cbct_fuzz_target {
    const char *name; /* the <parser> of fuzz_<parser>.c and corpus/<parser>/ */
    cbct_fuzz_fn run;
} cbct_fuzz_target;

int cbct_fuzz_config(const uint8_t *data, size_t size);
int cbct_fuzz_geometry_json(const uint8_t *data, size_t size);
int cbct_fuzz_npy(const uint8_t *data, size_t size);
int cbct_fuzz_metaimage(const uint8_t *data, size_t size);
int cbct_fuzz_safetensors(const uint8_t *data, size_t size);
int cbct_fuzz_tiff(const uint8_t *data, size_t size);
int cbct_fuzz_nifti(const uint8_t *data, size_t size);
int cbct_fuzz_walnut_geom(const uint8_t *data, size_t size);
int cbct_fuzz_astra_json(const uint8_t *data, size_t size);

/* Every target, NULL-terminated (targets.c: linked by the regression test). */
extern const cbct_fuzz_target cbct_fuzz_targets[];

/* A broken invariant: under libFuzzer, print and abort (a crash it saves);
 * in the regression test, print and count (cbct_fuzz_failures). */
void cbct_fuzz_fail(const char *target, const char *what);
long cbct_fuzz_failures(void);
void cbct_fuzz_set_abort(int abort_on_failure);

/* Checks a parser's result: an error has a known code and a message. */
void cbct_fuzz_check_status(const char *target, cbct_status s);
/* Checks that the tracked bytes are back to `before`. */
void cbct_fuzz_check_memory(const char *target, size_t before);
/* A NUL-terminated malloc'd copy of data (the text parsers need one);
 * NULL when out of memory (the target then skips the input). */
char *cbct_fuzz_text(const uint8_t *data, size_t size);

#ifdef CBCT_FUZZ_MAIN
#define CBCT_FUZZ_ENTRY(fn)                                                      \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                 \
    {                                                                            \
        cbct_fuzz_set_abort(1);                                                  \
        return fn(data, size);                                                   \
    }
#else
#define CBCT_FUZZ_ENTRY(fn)
#endif

#endif
