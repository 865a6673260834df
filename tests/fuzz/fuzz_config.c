/* Fuzz target: the YAML run config (cbct_config_parse). The bytes before
 * the first NUL are the config, those after it one `--set` override, so
 * that the override parser is fuzzed too. */
#include <stdlib.h>
#include <string.h>

#include "cbct/config.h"
#include "fuzz.h"

static void check_config(const cbct_recon_config *c)
{
    if (c->num_operators < 1 || c->max_iterations < 0)
        cbct_fuzz_fail("config", "num_operators < 1 or max_iterations < 0 accepted");
    for (int i = 0; i < 3; i++)
        if (c->source == CBCT_SOURCE_PHANTOM && c->shape[i] < 1)
            cbct_fuzz_fail("config", "a phantom dimension below 1 accepted");
    if (!memchr(c->output_dir, '\0', sizeof c->output_dir) ||
        !memchr(c->model_path, '\0', sizeof c->model_path))
        cbct_fuzz_fail("config", "a path not NUL-terminated");
}

int cbct_fuzz_config(const uint8_t *data, size_t size)
{
    char *text = cbct_fuzz_text(data, size);
    if (!text)
        return 0;
    size_t yaml_len = strlen(text);
    const char *override = yaml_len < size ? text + yaml_len + 1 : NULL;
    size_t before = cbct_mem_current();
    /* On the heap (it holds several 1 KiB paths): ASan then catches a
     * write past its end as it does for the parser's own buffers. */
    cbct_recon_config *c = malloc(sizeof *c);
    if (c) {
        cbct_clear_error();
        cbct_status s = cbct_config_parse(text, yaml_len, "fuzz.yml", &override,
                                          override ? 1 : 0, c);
        cbct_fuzz_check_status("config", s);
        if (s == CBCT_OK)
            check_config(c);
        free(c);
    }
    cbct_fuzz_check_memory("config", before);
    free(text);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_config)
