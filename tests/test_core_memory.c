/* The tracked allocator: current and peak bytes, the budget refusing with a
 * message that says what would have fit, injected failures, size parsing. */
#include "check.h"

int main(void)
{
    size_t base = cbct_mem_current();
    CHECK(base == 0);

    /* Counting and peak. */
    cbct_mem_reset_peak();
    void *a = cbct_alloc(1000, "block a");
    void *b = cbct_alloc(5000, "block b");
    CHECK(a && b);
    CHECK(((uintptr_t)a % 64) == 0 && ((uintptr_t)b % 64) == 0);
    size_t with_both = cbct_mem_current();
    CHECK(with_both >= 6000 && with_both <= 6000 + 2 * 128);
    cbct_free(b);
    CHECK(cbct_mem_current() < with_both);
    CHECK(cbct_mem_peak() == with_both);
    cbct_free(a);
    CHECK(cbct_mem_current() == 0);
    cbct_free(NULL);

    /* The budget refuses with the numbers and the name of the buffer. */
    cbct_mem_set_budget(1 << 20);
    CHECK(cbct_mem_budget() == (1 << 20));
    void *fits = cbct_alloc(512 * 1024, "half");
    CHECK(fits != NULL);
    CHECK(cbct_mem_available() < 512 * 1024 + 64);
    cbct_clear_error();
    void *too_big = cbct_alloc(600 * 1024, "projection batch");
    CHECK(too_big == NULL);
    CHECK_MSG(strstr(cbct_last_error(), "projection batch") &&
                  strstr(cbct_last_error(), "budget 1.00 MiB") &&
                  strstr(cbct_last_error(), "in use 512.06 KiB") &&
                  strstr(cbct_last_error(), "511.94 KiB left") &&
                  strstr(cbct_last_error(), "--mem"),
              "message: %s", cbct_last_error());
    CHECK(cbct_mem_current() < 600 * 1024); /* the refused bytes are not counted */
    cbct_free(fits);
    cbct_mem_set_budget(0);
    CHECK(cbct_mem_available() == SIZE_MAX);

    /* Arrays go through the allocator and fail cleanly. */
    cbct_array arr;
    cbct_mem_set_budget(4096);
    CHECK_FAILS(cbct_array_zeros(&arr, 64, 64, 64, "test volume"), CBCT_ERR_MEMORY,
                "test volume");
    CHECK(arr.data == NULL);
    cbct_mem_set_budget(0);
    CHECK_FAILS(cbct_array_create(&arr, 0, 4, 4, "empty"), CBCT_ERR_ARG, "non-positive");
    CHECK_FAILS(cbct_array_create(&arr, INT64_MAX / 2, 4, 4, "huge"), CBCT_ERR_ARG,
                "too large");
    CHECK_OK(cbct_array_zeros(&arr, 3, 4, 5, "small"));
    CHECK(cbct_array_numel(&arr) == 60 && arr.data[59] == 0.0f);
    cbct_array_destroy(&arr);
    cbct_array_destroy(&arr); /* safe twice */

    /* Injected failures: the n-th allocation from now fails, once. */
    cbct_mem_fail_nth(2);
    void *first = cbct_alloc(10, "first");
    void *second = cbct_alloc(10, "second");
    void *third = cbct_alloc(10, "third");
    CHECK(first && !second && third);
    CHECK(strstr(cbct_last_error(), "injected") != NULL);
    cbct_free(first);
    cbct_free(third);

    /* Overflowing sizes are refused, not wrapped. */
    CHECK(cbct_calloc(SIZE_MAX / 2, 4, "overflow") == NULL);
    CHECK(cbct_alloc(SIZE_MAX - 10, "overflow") == NULL);
    CHECK(cbct_mem_current() == 0);

    /* Sizes as people write them. */
    size_t bytes = 0;
    CHECK_OK(cbct_parse_size("2G", &bytes));
    CHECK(bytes == 2ULL << 30);
    CHECK_OK(cbct_parse_size("512M", &bytes));
    CHECK(bytes == 512ULL << 20);
    CHECK_OK(cbct_parse_size("1.5GiB", &bytes));
    CHECK(bytes == 3ULL << 29);
    CHECK_OK(cbct_parse_size("1000", &bytes));
    CHECK(bytes == 1000);
    CHECK_OK(cbct_parse_size("64k", &bytes));
    CHECK(bytes == 65536);
    CHECK_FAILS(cbct_parse_size("", &bytes), CBCT_ERR_ARG, "empty");
    CHECK_FAILS(cbct_parse_size("lots", &bytes), CBCT_ERR_ARG, "'lots'");
    CHECK_FAILS(cbct_parse_size("2X", &bytes), CBCT_ERR_ARG, "unknown unit");
    CHECK_FAILS(cbct_parse_size("-1G", &bytes), CBCT_ERR_ARG, "non-negative");
    CHECK_FAILS(cbct_parse_size("2Gxyz", &bytes), CBCT_ERR_ARG, "unexpected");
    char buf[32];
    CHECK(strcmp(cbct_format_size(3ULL << 29, buf, sizeof buf), "1.50 GiB") == 0);
    CHECK(strcmp(cbct_format_size(12, buf, sizeof buf), "12 B") == 0);

    /* Errors: messages, prefixes, names. */
    CHECK(cbct_error(CBCT_ERR_IO, "cannot open '%s'", "x.npy") == CBCT_ERR_IO);
    cbct_error_prefix(CBCT_ERR_IO, "reading volume");
    CHECK(strcmp(cbct_last_error(), "reading volume: cannot open 'x.npy'") == 0);
    CHECK(strcmp(cbct_status_name(CBCT_ERR_MEMORY), "out of memory") == 0);
    float bad[4] = {1, 2, NAN, 4};
    CHECK_FAILS(cbct_check_finite(bad, 4, "proj.npy"), CBCT_ERR_NUMERIC, "flat index 2");
    CHECK_OK(cbct_check_finite(bad, 2, "proj.npy"));
    CHECK(cbct_rss_peak_bytes() > 0);
    return check_summary("test_core_memory");
}
