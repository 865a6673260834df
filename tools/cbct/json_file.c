/* JSON files of the tool (record.json, index.json): printed with cJSON,
 * written atomically. */
#include <cjson/cJSON.h>
#include <string.h>

#include "json_file.h"

cbct_status cli_write_json(const char *path, const struct cJSON *root)
{
    char *text = cJSON_Print(root);
    if (!text)
        return cbct_error(CBCT_ERR_MEMORY, "'%s': cannot print the JSON", path);
    cbct_atomic_file f;
    cbct_status s = cbct_atomic_open(path, &f);
    if (s == CBCT_OK)
        s = cbct_atomic_write(&f, text, strlen(text));
    if (s == CBCT_OK)
        s = cbct_atomic_write(&f, "\n", 1);
    if (s == CBCT_OK)
        s = cbct_atomic_commit(&f);
    cJSON_free(text);
    return s;
}
