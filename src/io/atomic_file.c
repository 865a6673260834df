/* Atomic files: the data goes to a temporary file next to the target, which
 * is flushed to disk and renamed over the target only when complete, so a
 * crash or an error never leaves a truncated file that looks valid.
 * Also: reading a small text file with a size cap, and fault injection in
 * the writes (cbct_io_fail_nth): every output goes through here, so tests
 * can make the n-th operation fail and check that nothing is left. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cbct/io.h"

/* Suffix of the temporary file; mkstemp replaces the X's. */
#define TEMP_SUFFIX ".tmp.XXXXXX"
/* Permissions of the final file (mkstemp creates 0600; reading the umask
 * is not thread-safe, so use the usual rw-r--r--). */
#define FINAL_MODE 0644

/* Fault injection (tests; include/cbct/core.h): countdown to the operation
 * that fails (0: off), and the operations counted so far. */
static atomic_long io_fail_countdown;
static atomic_ulong io_operations;

void cbct_io_fail_nth(long n) { atomic_store(&io_fail_countdown, n > 0 ? n : 0); }
uint64_t cbct_io_op_count(void) { return atomic_load(&io_operations); }

/* Counts one operation; 1 when it is the one that must fail, with errno
 * set to `err` as the failing system call would. */
static int injected_failure(int err)
{
    atomic_fetch_add(&io_operations, 1);
    if (atomic_load(&io_fail_countdown) > 0 && atomic_fetch_sub(&io_fail_countdown, 1) == 1) {
        errno = err;
        return 1;
    }
    return 0;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* Frees the names and zeroes the struct (the file is already closed). */
static void atomic_clear(cbct_atomic_file *f)
{
    free(f->final_path);
    free(f->temp_path);
    memset(f, 0, sizeof *f);
}

cbct_status cbct_atomic_open(const char *path, cbct_atomic_file *f)
{
    memset(f, 0, sizeof *f);
    if (!path || !*path)
        return cbct_error(CBCT_ERR_ARG, "cannot write a file with an empty name");
    size_t len = strlen(path);
    if (path[len - 1] == '/')
        return cbct_error(CBCT_ERR_IO, "cannot write '%s': the name is a folder", path);
    f->final_path = copy_string(path);
    f->temp_path = malloc(len + sizeof TEMP_SUFFIX);
    if (!f->final_path || !f->temp_path) {
        atomic_clear(f);
        return cbct_error(CBCT_ERR_MEMORY, "cannot write '%s': out of memory for its name", path);
    }
    memcpy(f->temp_path, path, len);
    memcpy(f->temp_path + len, TEMP_SUFFIX, sizeof TEMP_SUFFIX);
    int fd = injected_failure(EACCES) ? -1 : mkstemp(f->temp_path);
    if (fd < 0) {
        int err = errno;
        atomic_clear(f);
        return cbct_error(CBCT_ERR_IO, "cannot create '%s' (temporary file in its folder): %s",
                          path, strerror(err));
    }
    if (fchmod(fd, FINAL_MODE) != 0 || !(f->fp = fdopen(fd, "wb"))) {
        int err = errno;
        close(fd);
        unlink(f->temp_path);
        atomic_clear(f);
        return cbct_error(CBCT_ERR_IO, "cannot create '%s': %s", path, strerror(err));
    }
    return CBCT_OK;
}

cbct_status cbct_atomic_write(cbct_atomic_file *f, const void *data, size_t bytes)
{
    if (!f->fp)
        return cbct_error(CBCT_ERR_ARG, "write to a file that is not open (aborted or committed)");
    if (bytes == 0)
        return CBCT_OK;
    if (injected_failure(ENOSPC) || fwrite(data, 1, bytes, f->fp) != bytes) {
        int err = errno;
        char *name = copy_string(f->final_path);
        cbct_atomic_abort(f);
        cbct_error(CBCT_ERR_IO, "cannot write '%s': %s", name ? name : "(file)",
                   strerror(err));
        free(name);
        return CBCT_ERR_IO;
    }
    return CBCT_OK;
}

/* fsync of the folder makes the rename itself durable. Failure here is not
 * an error: some file systems do not support it, and the data is safe. */
static void sync_parent_folder(const char *path)
{
    char *folder = copy_string(path);
    if (!folder)
        return;
    char *slash = strrchr(folder, '/');
    const char *dir = ".";
    if (slash == folder)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = folder;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(folder);
}

cbct_status cbct_atomic_commit(cbct_atomic_file *f)
{
    if (!f->fp)
        return cbct_error(CBCT_ERR_ARG, "commit of a file that is not open (aborted or committed)");
    const char *step = "flush";
    int ok = !injected_failure(ENOSPC) && fflush(f->fp) == 0;
    if (ok) {
        step = "fsync";
        ok = !injected_failure(EIO) && fsync(fileno(f->fp)) == 0;
    }
    int err = ok ? 0 : errno;
    /* fclose is needed in every case; its own failure (e.g. a delayed
     * write error on a network file system) also means the data is lost. */
    int closed = fclose(f->fp) == 0 && !injected_failure(EIO);
    if (!closed && ok) {
        step = "close";
        ok = 0;
        err = errno;
    }
    f->fp = NULL;
    if (ok && (injected_failure(EACCES) || rename(f->temp_path, f->final_path) != 0)) {
        step = "rename";
        ok = 0;
        err = errno;
    }
    if (!ok) {
        unlink(f->temp_path);
        cbct_error(CBCT_ERR_IO, "cannot write '%s' (%s of the temporary file failed): %s",
                   f->final_path, step, strerror(err));
        atomic_clear(f);
        return CBCT_ERR_IO;
    }
    sync_parent_folder(f->final_path);
    atomic_clear(f);
    return CBCT_OK;
}

void cbct_atomic_abort(cbct_atomic_file *f)
{
    if (!f)
        return;
    if (f->fp) {
        fclose(f->fp);
        unlink(f->temp_path);
    }
    atomic_clear(f);
}

cbct_status cbct_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (max_bytes > SIZE_MAX - 2)
        max_bytes = SIZE_MAX - 2;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    /* Read until end of file or max_bytes + 1 bytes (so that a larger file
     * is detected), growing the buffer: the file may be a pipe of unknown
     * size. One byte is kept for the terminating NUL. */
    size_t cap = max_bytes + 2 < 4096 ? max_bytes + 2 : 4096;
    size_t used = 0;
    char *buf = malloc(cap);
    cbct_status status = CBCT_OK;
    if (!buf)
        status = cbct_error(CBCT_ERR_MEMORY, "cannot read '%s': out of memory", path);
    while (!status) {
        if (used + 1 == cap) {
            /* used <= max_bytes here, so the new capacity is larger. */
            size_t new_cap = cap <= (max_bytes + 2) / 2 ? cap * 2 : max_bytes + 2;
            char *grown = realloc(buf, new_cap);
            if (!grown) {
                status = cbct_error(CBCT_ERR_MEMORY, "cannot read '%s': out of memory", path);
                break;
            }
            buf = grown;
            cap = new_cap;
        }
        size_t got = fread(buf + used, 1, cap - 1 - used, fp);
        used += got;
        if (used > max_bytes) {
            status = cbct_error(CBCT_ERR_FORMAT, "'%s' is larger than %zu bytes, the limit for "
                                "this kind of file", path, max_bytes);
            break;
        }
        if (got == 0) {
            if (ferror(fp))
                status = cbct_error(CBCT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
    }
    fclose(fp);
    if (status) {
        free(buf);
        return status;
    }
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return CBCT_OK;
}
