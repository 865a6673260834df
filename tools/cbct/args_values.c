/* Option values to numbers, lists and choices; errors name the option,
 * the value and what was expected (see args.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int cli_parse_int(const char *text, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cli_parse_double(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Splits "A,B,C" into at most `cap` pieces (copied into buf). */
static int split_commas(const char *text, char *buf, size_t buf_len, char **pieces, int cap)
{
    if (strlen(text) >= buf_len)
        return -1; /* would be cut: refuse rather than parse a different value */
    snprintf(buf, buf_len, "%s", text);
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == cap)
            return -1;
        pieces[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

/* `kind` is "integer" or "number". */
static int list_error(const cli_args *a, const char *name, const char *text, int n,
                      const char *kind, const char *range)
{
    if (n == 1)
        return cli_usage_error(a->ctx, "option %s: '%s' is not valid: expected %s %s %s", name,
                               text, kind[0] == 'i' ? "an" : "a", kind, range);
    return cli_usage_error(a->ctx, "option %s: '%s' is not valid: expected %d comma-separated "
                                   "%ss %s (or one for all)", name, text, n, kind, range);
}

int cli_ints(const cli_args *a, const char *name, int n, int64_t min, int64_t max,
             int64_t *out)
{
    const char *text = cli_value(a, name);
    if (!text)
        return 0;
    char range[96], buf[256], *pieces[8];
    if (max == INT64_MAX)
        snprintf(range, sizeof range, ">= %lld", (long long)min);
    else
        snprintf(range, sizeof range, "in [%lld, %lld]", (long long)min, (long long)max);
    int count = split_commas(text, buf, sizeof buf, pieces, 8);
    if (count != 1 && count != n)
        return list_error(a, name, text, n, "integer", range);
    int64_t v[8];
    for (int i = 0; i < count; i++)
        if (cli_parse_int(pieces[i], &v[i]) || v[i] < min || v[i] > max)
            return list_error(a, name, text, n, "integer", range);
    for (int i = 0; i < n; i++)
        out[i] = v[count == 1 ? 0 : i];
    return 0;
}

int cli_doubles(const cli_args *a, const char *name, int n, double min, double max,
                double *out)
{
    const char *text = cli_value(a, name);
    if (!text)
        return 0;
    char range[96], buf[256], *pieces[8];
    if (isinf(max))
        snprintf(range, sizeof range, ">= %g", min);
    else
        snprintf(range, sizeof range, "in [%g, %g]", min, max);
    int count = split_commas(text, buf, sizeof buf, pieces, 8);
    if (count != 1 && count != n)
        return list_error(a, name, text, n, "number", range);
    double v[8];
    for (int i = 0; i < count; i++)
        if (cli_parse_double(pieces[i], &v[i]) || v[i] < min || v[i] > max)
            return list_error(a, name, text, n, "number", range);
    for (int i = 0; i < n; i++)
        out[i] = v[count == 1 ? 0 : i];
    return 0;
}

int cli_int(const cli_args *a, const char *name, int64_t min, int64_t max, int64_t *out)
{
    return cli_ints(a, name, 1, min, max, out);
}

int cli_double(const cli_args *a, const char *name, double min, double max, double *out)
{
    return cli_doubles(a, name, 1, min, max, out);
}

int cli_choice(const cli_args *a, const char *name, const char *const *choices, int *index)
{
    const char *text = cli_value(a, name);
    if (!text)
        return 0;
    char expected[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(text, choices[i]) == 0) {
            *index = i;
            return 0;
        }
        size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s%s", i ? ", " : "", choices[i]);
    }
    return cli_usage_error(a->ctx, "option %s: '%s' is not valid: expected one of %s", name,
                           text, expected);
}

int cli_filter(const cli_args *a, const char *name, cbct_filter *out)
{
    const char *text = cli_value(a, name);
    if (!text)
        return 0;
    if (cbct_filter_from_name(text, out) != CBCT_OK)
        return cli_usage_error(a->ctx, "option %s: '%s' is not valid: expected one of "
                                       "ram-lak, shepp-logan, cosine, hann", name, text);
    return 0;
}
