/* Memory sizes as people write them: "2G", "512M", "1.5GiB", "1000000". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cbct/core.h"

cbct_status cbct_parse_size(const char *text, size_t *bytes)
{
    if (!text || !*text)
        return cbct_error(CBCT_ERR_ARG, "empty memory size: expected a number with an "
                                        "optional unit K, M, G or T (for example 2G)");
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || !isfinite(value) || value < 0)
        return cbct_error(CBCT_ERR_ARG, "bad memory size '%s': expected a non-negative number "
                                        "with an optional unit K, M, G or T (for example 2G)",
                          text);
    double scale = 1;
    while (*end == ' ')
        end++;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'B': scale = 1; break;
        case 'K': scale = 1024.0; break;
        case 'M': scale = 1024.0 * 1024; break;
        case 'G': scale = 1024.0 * 1024 * 1024; break;
        case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
        default:
            return cbct_error(CBCT_ERR_ARG, "bad memory size '%s': unknown unit '%s' "
                                            "(expected K, M, G or T)", text, end);
        }
        const char *rest = end + 1;
        if (*end != 'B' && *end != 'b') {
            if (strcasecmp(rest, "iB") != 0 && strcasecmp(rest, "B") != 0 && *rest)
                return cbct_error(CBCT_ERR_ARG, "bad memory size '%s': unexpected '%s' after "
                                                "the unit", text, rest);
        } else if (*rest) {
            return cbct_error(CBCT_ERR_ARG, "bad memory size '%s'", text);
        }
    }
    double result = value * scale;
    if (result >= 18e18)
        return cbct_error(CBCT_ERR_ARG, "memory size '%s' is too large", text);
    *bytes = (size_t)result;
    return CBCT_OK;
}

const char *cbct_format_size(size_t bytes, char *buf, size_t buf_len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, buf_len, "%zu B", bytes);
    else
        snprintf(buf, buf_len, "%.2f %s", value, units[unit]);
    return buf;
}
