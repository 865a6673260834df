/* Checkpoint files: one file per checkpoint, written atomically, so that a
 * run killed at any moment leaves either the previous checkpoint or the new
 * one, never a mix. Layout (docs/solvers.md):
 *   "CBCT-CHECKPOINT 1\n"
 *   "<header length in bytes>\n" <header JSON> "\n"
 *   the vectors, float32 little-endian, in header order
 *   FNV-1a 64 of every byte above, 8 bytes little-endian. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"
#include "solvers/solver_internal.h"

#define MAGIC "CBCT-CHECKPOINT 1\n"
#define MAX_HEADER_BYTES ((size_t)64 << 20) /* metrics of many iterations fit */
#define CHUNK_BYTES ((size_t)1 << 22)       /* checksum reads, 4 MiB at a time */

typedef struct {
    cbct_atomic_file file;
    uint64_t hash;
} hashed_writer;

static cbct_status put(hashed_writer *w, const void *data, size_t bytes)
{
    w->hash = cbct_fnv1a(w->hash, data, bytes);
    return cbct_atomic_write(&w->file, data, bytes);
}

static char *header_text(const cbct_solver_state *st, const char *extra_json, const char *path)
{
    cJSON *h = cJSON_CreateObject(), *scalars = cJSON_CreateObject(),
          *vectors = cJSON_CreateArray();
    cJSON_AddItemToObject(h, "solver", cJSON_CreateString(st->solver));
    cJSON_AddItemToObject(h, "iteration", cJSON_CreateNumber(st->iteration));
    for (int i = 0; i < st->n_scalars; i++)
        cJSON_AddItemToObject(scalars, st->scalar_name[i], cJSON_CreateNumber(st->scalar[i]));
    cJSON_AddItemToObject(h, "scalars", scalars);
    for (int i = 0; i < st->n_vectors; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToObject(v, "name", cJSON_CreateString(st->vector_name[i]));
        cJSON_AddItemToObject(v, "numel", cJSON_CreateNumber((double)st->vector_numel[i]));
        cJSON_AddItemToArray(vectors, v);
    }
    cJSON_AddItemToObject(h, "vectors", vectors);
    if (extra_json) {
        cJSON *extra = cJSON_Parse(extra_json);
        if (!extra || !cJSON_IsObject(extra)) {
            cJSON_Delete(extra);
            cJSON_Delete(h);
            cbct_error(CBCT_ERR_ARG, "checkpoint '%s': the caller's data is not a JSON object",
                       path);
            return NULL;
        }
        cJSON_AddItemToObject(h, "extra", extra);
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text)
        cbct_error(CBCT_ERR_MEMORY, "checkpoint '%s': no memory for its header", path);
    return text;
}

cbct_status cbct_checkpoint_write(const char *path, const cbct_solver_state *st,
                                  const char *extra_json)
{
    if (!path || !st)
        return cbct_error(CBCT_ERR_ARG, "cbct_checkpoint_write: NULL argument");
    char *header = header_text(st, extra_json, path);
    if (!header)
        return cbct_last_status();
    hashed_writer w = {.hash = CBCT_FNV1A_OFFSET};
    cbct_status s = cbct_atomic_open(path, &w.file);
    char length_line[32];
    int n = snprintf(length_line, sizeof length_line, "%zu\n", strlen(header));
    if (!s)
        s = put(&w, MAGIC, strlen(MAGIC));
    if (!s)
        s = put(&w, length_line, (size_t)n);
    if (!s)
        s = put(&w, header, strlen(header));
    if (!s)
        s = put(&w, "\n", 1);
    for (int i = 0; !s && i < st->n_vectors; i++)
        s = put(&w, st->vector[i], (size_t)st->vector_numel[i] * sizeof(float));
    unsigned char sum[8];
    for (int b = 0; b < 8; b++)
        sum[b] = (unsigned char)(w.hash >> (8 * b));
    if (!s)
        s = cbct_atomic_write(&w.file, sum, sizeof sum);
    if (!s)
        s = cbct_atomic_commit(&w.file);
    cbct_atomic_abort(&w.file);
    cJSON_free(header);
    return s;
}

/* ---- Reading ---------------------------------------------------------------- */

typedef struct {
    FILE *fp;
    const char *path;
    uint64_t hash;
} hashed_reader;

static cbct_status get(hashed_reader *r, void *data, size_t bytes, const char *what)
{
    if (fread(data, 1, bytes, r->fp) != bytes)
        return cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': truncated in %s", r->path, what);
    r->hash = cbct_fnv1a(r->hash, data, bytes);
    return CBCT_OK;
}

/* Reads up to and including '\n' into buf (at most len - 1 characters). */
static cbct_status get_line(hashed_reader *r, char *buf, size_t len, const char *what)
{
    size_t used = 0;
    while (used + 1 < len) {
        int c = fgetc(r->fp);
        if (c == EOF)
            break;
        buf[used++] = (char)c;
        if (c == '\n') {
            buf[used] = '\0';
            r->hash = cbct_fnv1a(r->hash, buf, used);
            return CBCT_OK;
        }
    }
    return cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': bad %s line (not a cbct checkpoint?)",
                      r->path, what);
}

static cbct_status parse_header(const char *text, const char *path, cbct_solver_state *st,
                                char **extra_json)
{
    cJSON *h = cJSON_Parse(text);
    cbct_status s = h ? CBCT_OK
                      : cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': header is not JSON", path);
    cJSON *solver = cJSON_GetObjectItemCaseSensitive(h, "solver");
    cJSON *iteration = cJSON_GetObjectItemCaseSensitive(h, "iteration");
    cJSON *scalars = cJSON_GetObjectItemCaseSensitive(h, "scalars");
    cJSON *vectors = cJSON_GetObjectItemCaseSensitive(h, "vectors");
    if (!s && (!cJSON_IsString(solver) || strlen(solver->valuestring) >= CBCT_STATE_NAME_MAX ||
               !cJSON_IsNumber(iteration) || iteration->valuedouble < 0 ||
               iteration->valuedouble > 1e9 || !cJSON_IsObject(scalars) ||
               !cJSON_IsArray(vectors)))
        s = cbct_error(CBCT_ERR_FORMAT,
                       "checkpoint '%s': header lacks solver, iteration, scalars or vectors", path);
    if (!s) {
        strcpy(st->solver, solver->valuestring);
        st->iteration = (int)iteration->valuedouble;
    }
    cJSON *item = NULL;
    if (!s)
        cJSON_ArrayForEach(item, scalars)
        {
            if (!s && !cJSON_IsNumber(item))
                s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': scalar '%s' is not a number",
                               path, item->string);
            if (!s)
                s = cbct_solver_state_add_scalar(st, item->string, item->valuedouble);
        }
    if (!s)
        cJSON_ArrayForEach(item, vectors)
        {
            cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
            cJSON *numel = cJSON_GetObjectItemCaseSensitive(item, "numel");
            if (!s && (!cJSON_IsString(name) || !cJSON_IsNumber(numel) ||
                       numel->valuedouble < 0 || numel->valuedouble > 9e15))
                s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': bad vector entry", path);
            if (!s)
                s = cbct_solver_state_add_vector(st, name->valuestring, NULL,
                                                 (int64_t)numel->valuedouble);
        }
    cJSON *extra = cJSON_GetObjectItemCaseSensitive(h, "extra");
    if (!s && extra_json && extra) {
        *extra_json = cJSON_PrintUnformatted(extra);
        if (!*extra_json)
            s = cbct_error(CBCT_ERR_MEMORY, "checkpoint '%s': no memory for its data", path);
    }
    cJSON_Delete(h);
    return s;
}

static cbct_status read_body(hashed_reader *r, cbct_solver_state *st, char **extra_json)
{
    char line[64];
    cbct_status s = get_line(r, line, sizeof line, "first");
    if (!s && strcmp(line, MAGIC) != 0)
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': not a cbct checkpoint (first line)",
                       r->path);
    if (!s)
        s = get_line(r, line, sizeof line, "header length");
    char *end = NULL;
    unsigned long long header_bytes = s ? 0 : strtoull(line, &end, 10);
    if (!s && (end == line || *end != '\n' || header_bytes == 0 ||
               header_bytes > MAX_HEADER_BYTES))
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': bad header length", r->path);
    char *header = s ? NULL : malloc((size_t)header_bytes + 2);
    if (!s && !header)
        s = cbct_error(CBCT_ERR_MEMORY, "checkpoint '%s': no memory for its header", r->path);
    if (!s)
        s = get(r, header, (size_t)header_bytes + 1, "the header");
    if (!s && header[header_bytes] != '\n')
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': header not followed by a newline",
                       r->path);
    if (!s) {
        header[header_bytes] = '\0';
        s = parse_header(header, r->path, st, extra_json);
    }
    free(header);
    st->owns_vectors = 1;
    for (int i = 0; !s && i < st->n_vectors; i++) {
        size_t bytes = (size_t)st->vector_numel[i] * sizeof(float);
        st->vector[i] = cbct_alloc(bytes ? bytes : 1, "checkpoint vector");
        if (!st->vector[i])
            return CBCT_ERR_MEMORY;
        for (size_t done = 0; !s && done < bytes; done += CHUNK_BYTES) {
            size_t part = bytes - done < CHUNK_BYTES ? bytes - done : CHUNK_BYTES;
            s = get(r, (char *)st->vector[i] + done, part, st->vector_name[i]);
        }
    }
    unsigned char sum[8];
    if (!s && fread(sum, 1, sizeof sum, r->fp) != sizeof sum)
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': truncated (no checksum)", r->path);
    uint64_t stored = 0;
    for (int b = 0; !s && b < 8; b++)
        stored |= (uint64_t)sum[b] << (8 * b);
    if (!s && stored != r->hash)
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': checksum mismatch (corrupt file)",
                       r->path);
    if (!s && fgetc(r->fp) != EOF)
        s = cbct_error(CBCT_ERR_FORMAT, "checkpoint '%s': data after the checksum", r->path);
    return s;
}

cbct_status cbct_checkpoint_read(const char *path, cbct_solver_state *st, char **extra_json)
{
    if (!path || !st)
        return cbct_error(CBCT_ERR_ARG, "cbct_checkpoint_read: NULL argument");
    memset(st, 0, sizeof *st);
    if (extra_json)
        *extra_json = NULL;
    hashed_reader r = {.fp = fopen(path, "rb"), .path = path, .hash = CBCT_FNV1A_OFFSET};
    if (!r.fp)
        return cbct_error(CBCT_ERR_IO, "cannot open checkpoint '%s': %s", path, strerror(errno));
    cbct_status s = read_body(&r, st, extra_json);
    fclose(r.fp);
    if (s) {
        cbct_solver_state_free(st);
        if (extra_json) {
            free(*extra_json);
            *extra_json = NULL;
        }
    }
    return s;
}
