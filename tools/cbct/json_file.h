/* Writing the tool's JSON files (tools/cbct/json_file.c). */
#ifndef CBCT_TOOL_JSON_FILE_H
#define CBCT_TOOL_JSON_FILE_H

#include "cbct.h"

struct cJSON;
/* Prints `root` (indented, one newline at the end) into `path`, atomically. */
cbct_status cli_write_json(const char *path, const struct cJSON *root);

#endif
