/* Atomic files: nothing visible before commit, nothing left after abort or
 * a failed commit, a clear error for a missing folder; reading text files
 * with a size cap. */
#include <dirent.h>
#include <unistd.h>

#include "check.h"

/* Entries of `folder` other than "." and "..". */
static int count_entries(const char *folder)
{
    int n = 0;
    DIR *d = opendir(folder);
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    fputs(text, fp);
    fclose(fp);
}

/* A fresh empty folder under the test folder. */
static const char *fresh_folder(const char *name, char *buf, size_t len)
{
    check_tmpfile(name, buf, len);
    DIR *d = opendir(buf);
    char path[4096];
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", buf, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path);
    }
    if (d)
        closedir(d);
    mkdir(buf, 0755);
    return buf;
}

static void test_commit_and_abort(void)
{
    char folder[2048], path[2200];
    fresh_folder("atomic", folder, sizeof folder);
    snprintf(path, sizeof path, "%s/out.txt", folder);
    cbct_atomic_file f;
    CHECK_OK(cbct_atomic_open(path, &f));
    CHECK(f.temp_path && strncmp(f.temp_path, path, strlen(path)) == 0 &&
          strstr(f.temp_path, ".tmp.") != NULL);
    CHECK_OK(cbct_atomic_write(&f, "hello ", 6));
    CHECK_OK(cbct_atomic_write(&f, "world", 5));
    CHECK(access(path, F_OK) != 0); /* not visible before commit */
    CHECK_OK(cbct_atomic_commit(&f));
    CHECK(count_entries(folder) == 1);
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(cbct_read_text_file(path, 100, &text, &len));
    CHECK(len == 11 && text && strcmp(text, "hello world") == 0);
    free(text);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    /* After commit: abort is a no-op, commit and write are errors. */
    cbct_atomic_abort(&f);
    CHECK(access(path, F_OK) == 0);
    CHECK_FAILS(cbct_atomic_commit(&f), CBCT_ERR_ARG, "not open");
    CHECK_FAILS(cbct_atomic_write(&f, "x", 1), CBCT_ERR_ARG, "not open");

    /* Overwrite: the old content stays until commit. */
    CHECK_OK(cbct_atomic_open(path, &f));
    CHECK_OK(cbct_atomic_write(&f, "new", 3));
    CHECK_OK(cbct_read_text_file(path, 100, &text, &len));
    CHECK(text && strcmp(text, "hello world") == 0);
    free(text);
    CHECK_OK(cbct_atomic_commit(&f));
    CHECK_OK(cbct_read_text_file(path, 100, &text, &len));
    CHECK(text && strcmp(text, "new") == 0);
    free(text);

    /* Abort: no temporary file, the old file untouched. */
    CHECK_OK(cbct_atomic_open(path, &f));
    CHECK_OK(cbct_atomic_write(&f, "lost", 4));
    CHECK(count_entries(folder) == 2);
    cbct_atomic_abort(&f);
    cbct_atomic_abort(&f);
    CHECK(count_entries(folder) == 1);
    CHECK_OK(cbct_read_text_file(path, 100, &text, &len));
    CHECK(text && strcmp(text, "new") == 0);
    free(text);

    /* A new file aborted: nothing at all. */
    snprintf(path, sizeof path, "%s/never.bin", folder);
    CHECK_OK(cbct_atomic_open(path, &f));
    CHECK_OK(cbct_atomic_write(&f, "x", 1));
    cbct_atomic_abort(&f);
    CHECK(access(path, F_OK) != 0);
    CHECK(count_entries(folder) == 1);

    /* Commit fails when the target is a folder: error naming it, no
     * temporary file left. */
    snprintf(path, sizeof path, "%s/sub", folder);
    mkdir(path, 0755);
    CHECK_OK(cbct_atomic_open(path, &f));
    CHECK_OK(cbct_atomic_write(&f, "x", 1));
    CHECK_FAILS(cbct_atomic_commit(&f), CBCT_ERR_IO, "rename");
    CHECK(strstr(cbct_last_error(), path) != NULL);
    CHECK(count_entries(folder) == 2); /* out.txt and sub */
    rmdir(path);
}

static void test_missing_folder(void)
{
    char folder[2048], path[2200];
    check_tmpfile("no_such_folder", folder, sizeof folder);
    rmdir(folder);
    snprintf(path, sizeof path, "%s/out.npy", folder);
    cbct_atomic_file f;
    CHECK_FAILS(cbct_atomic_open(path, &f), CBCT_ERR_IO, path);
    CHECK(strstr(cbct_last_error(), "No such file or directory") != NULL);
    CHECK(f.fp == NULL && f.temp_path == NULL);
    cbct_atomic_abort(&f); /* safe after a failed open */
    CHECK(access(folder, F_OK) != 0);
    CHECK_FAILS(cbct_atomic_open("", &f), CBCT_ERR_ARG, "empty");
    CHECK_FAILS(cbct_atomic_open("some/folder/", &f), CBCT_ERR_IO, "folder");
}

static void test_read_text(void)
{
    char path[2048];
    check_tmpfile("text.json", path, sizeof path);
    /* Longer than the first buffer, so that it has to grow. */
    char big[10001];
    for (int i = 0; i < 10000; i++)
        big[i] = (char)('a' + i % 26);
    big[10000] = '\0';
    write_text(path, big);
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(cbct_read_text_file(path, 10000, &text, &len));
    CHECK(len == 10000 && text && strcmp(text, big) == 0);
    free(text);
    CHECK_FAILS(cbct_read_text_file(path, 9999, &text, &len), CBCT_ERR_FORMAT, path);
    CHECK(strstr(cbct_last_error(), "9999 bytes") != NULL && text == NULL);
    CHECK_FAILS(cbct_read_text_file(path, 10, &text, &len), CBCT_ERR_FORMAT, "larger than 10");
    write_text(path, "");
    CHECK_OK(cbct_read_text_file(path, 0, &text, NULL));
    CHECK(text && text[0] == '\0');
    free(text);
    check_tmpfile("missing.json", path, sizeof path);
    CHECK_FAILS(cbct_read_text_file(path, 100, &text, &len), CBCT_ERR_IO, "missing.json");
    CHECK_FAILS(cbct_read_text_file(check_tmpdir(), 100, &text, &len), CBCT_ERR_IO,
                check_tmpdir());
}

int main(void)
{
    test_commit_and_abort();
    test_missing_folder();
    test_read_text();
    return check_summary("test_io_atomic");
}
