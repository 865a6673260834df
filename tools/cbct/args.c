/* Option tables, parsing and --help (see args.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"

/* Options every command accepts; handled here, not by the commands. */
static const cli_option global_options[] = {
    {"--mem", 0, "SIZE", 0, "no limit",
     "memory budget for large buffers, e.g. 512M, 2G, 1.5GiB (K/M/G/T = 1024^n bytes)"},
    {"--threads", 0, "N", 0, "OMP_NUM_THREADS or all cores", "number of threads"},
    {"--quiet", 0, NULL, 0, NULL, "only warnings and errors on stderr; no progress, no timings"},
    {"--verbose", 0, NULL, 0, NULL, "also debug messages on stderr"},
    {"--help", 'h', NULL, 0, NULL, "show this help and exit"},
    {NULL, 0, NULL, 0, NULL, NULL}};

enum { GLOBAL_MEM, GLOBAL_THREADS, GLOBAL_QUIET, GLOBAL_VERBOSE, GLOBAL_HELP, N_GLOBAL };

static int count_options(const cli_option *opts)
{
    int n = 0;
    while (opts && opts[n].name)
        n++;
    return n;
}

/* Index of the option matching `arg` (without any "=value"), or -1. Command
 * options come first, global ones at n_command + k. */
static int find_option(const cli_command *cmd, const char *arg, size_t name_len)
{
    int n_command = count_options(cmd->options);
    for (int set = 0; set < 2; set++) {
        const cli_option *opts = set == 0 ? cmd->options : global_options;
        int base = set == 0 ? 0 : n_command;
        for (int i = 0; opts[i].name; i++) {
            int long_match = strlen(opts[i].name) == name_len &&
                             strncmp(opts[i].name, arg, name_len) == 0;
            int short_match = opts[i].short_name && name_len == 2 && arg[0] == '-' &&
                              arg[1] == opts[i].short_name;
            if (long_match || short_match)
                return base + i;
        }
    }
    return -1;
}

static const cli_option *option_at(const cli_command *cmd, int index)
{
    int n_command = count_options(cmd->options);
    return index < n_command ? &cmd->options[index] : &global_options[index - n_command];
}

static int apply_globals(cli_args *a)
{
    cli_context *ctx = a->ctx;
    int base = count_options(a->cmd->options);
    ctx->quiet = a->given[base + GLOBAL_QUIET];
    ctx->verbose = a->given[base + GLOBAL_VERBOSE];
    if (ctx->quiet && ctx->verbose)
        return cli_usage_error(ctx, "options --quiet and --verbose exclude each other");
    const char *mem = a->value[base + GLOBAL_MEM];
    if (mem) {
        size_t budget = 0;
        if (cbct_parse_size(mem, &budget) != CBCT_OK)
            return cli_usage_error(ctx, "option --mem: %s", cbct_last_error());
        if (budget == 0)
            return cli_usage_error(ctx, "option --mem: '%s' is zero: expected a positive "
                                        "size such as 2G", mem);
        cbct_mem_set_budget(budget);
    }
    int64_t threads = 0;
    if (cli_int(a, "--threads", 1, 4096, &threads))
        return CLI_EXIT_USAGE;
    if (threads > 0)
        cbct_set_threads((int)threads);
    ctx->progress.enabled = !ctx->quiet && isatty(STDERR_FILENO);
    return 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cli_parse(cli_context *ctx, const cli_command *cmd, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = ctx;
    out->cmd = cmd;
    if (count_options(cmd->options) + N_GLOBAL > CLI_MAX_OPTIONS)
        return cli_usage_error(ctx, "internal: too many options (raise CLI_MAX_OPTIONS)");
    if (wants_help(argc, argv)) {
        cli_print_help(ctx, cmd);
        return CLI_EXIT_OK;
    }
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        /* "-" alone and negative numbers are values, not options. */
        int is_option = !only_positional && arg[0] == '-' && arg[1] != '\0' &&
                        !(arg[1] >= '0' && arg[1] <= '9') && arg[1] != '.';
        if (!is_option) {
            if (out->n_positional >= cmd->max_positional)
                return cli_usage_error(ctx, "unexpected argument '%s'", arg);
            out->positional[out->n_positional++] = arg;
            continue;
        }
        const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = find_option(cmd, arg, name_len);
        if (k < 0)
            return cli_usage_error(ctx, "unknown option '%.*s'", (int)name_len, arg);
        const cli_option *opt = option_at(cmd, k);
        out->given[k] = 1;
        if (!opt->metavar) {
            if (eq)
                return cli_usage_error(ctx, "option %s is a flag and takes no value (got '%s')",
                                       opt->name, eq + 1);
            continue;
        }
        if (eq) {
            out->value[k] = eq + 1;
        } else if (i + 1 < argc) {
            out->value[k] = argv[++i];
        } else {
            return cli_usage_error(ctx, "option %s needs a value (%s)", opt->name, opt->metavar);
        }
    }
    if (out->n_positional < cmd->min_positional)
        return cli_usage_error(ctx, "missing argument: expected %d file name%s, got %d",
                               cmd->min_positional, cmd->min_positional == 1 ? "" : "s",
                               out->n_positional);
    for (int k = 0; cmd->options && cmd->options[k].name; k++)
        if (cmd->options[k].required && !out->value[k])
            return cli_usage_error(ctx, "missing required option %s %s", cmd->options[k].name,
                                   cmd->options[k].metavar);
    if (apply_globals(out))
        return CLI_EXIT_USAGE;
    return CLI_PARSED;
}

static void print_options(const cli_option *opts)
{
    for (int i = 0; opts[i].name; i++) {
        char left[64];
        if (opts[i].short_name)
            snprintf(left, sizeof left, "-%c, %s%s%s", opts[i].short_name, opts[i].name,
                     opts[i].metavar ? " " : "", opts[i].metavar ? opts[i].metavar : "");
        else
            snprintf(left, sizeof left, "    %s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                     opts[i].metavar ? opts[i].metavar : "");
        printf("  %-28s %s", left, opts[i].help);
        if (opts[i].required)
            printf(" (required)");
        else if (opts[i].default_text)
            printf(" (default: %s)", opts[i].default_text);
        printf("\n");
    }
}

void cli_print_help(const cli_context *ctx, const cli_command *cmd)
{
    printf("Usage: cbct %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->options && cmd->options[0].name) {
        printf("\nOptions:\n");
        print_options(cmd->options);
    }
    printf("\nGlobal options:\n");
    print_options(global_options);
    (void)ctx;
}

static int index_of(const cli_args *a, const char *name)
{
    int n_command = count_options(a->cmd->options);
    for (int i = 0; i < n_command + N_GLOBAL; i++)
        if (strcmp(option_at(a->cmd, i)->name, name) == 0)
            return i;
    return -1;
}

const char *cli_value(const cli_args *a, const char *name)
{
    int k = index_of(a, name);
    return k < 0 ? NULL : a->value[k];
}

int cli_flag(const cli_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 && a->given[k];
}

const char *cli_string(const cli_args *a, const char *name, const char *fallback)
{
    const char *v = cli_value(a, name);
    return v ? v : fallback;
}

int cli_take_sets(int argc, char **argv, const char *name, const char **values, int max_values,
                  int *n_values)
{
    size_t len = strlen(name);
    int kept = 0;
    for (int i = 0; i < argc; i++) {
        int bare = strcmp(argv[i], name) == 0;
        int joined = strncmp(argv[i], name, len) == 0 && argv[i][len] == '=';
        if (!bare && !joined) {
            argv[kept++] = argv[i];
            continue;
        }
        if (*n_values == max_values || (bare && i + 1 >= argc))
            return -1;
        values[(*n_values)++] = bare ? argv[++i] : argv[i] + len + 1;
    }
    return kept;
}
