/* Option parsing shared by every sub-command.
 *
 * A command describes its options in a table; the parser accepts
 * "--name VALUE", "--name=VALUE", short "-o VALUE", flags, positional
 * arguments and "--", applies the global options (--mem, --threads, --quiet,
 * --verbose, -h/--help) and prints --help from the table. The converters
 * turn values into numbers and report usage errors that name the option,
 * the value and what was expected. */
#ifndef CBCT_TOOL_ARGS_H
#define CBCT_TOOL_ARGS_H

#include <stdint.h>

#include "cli.h"

/* One option. A NULL `metavar` makes a flag (no value). */
typedef struct cli_option {
    const char *name;         /* "--views" */
    char short_name;          /* 'o' for -o, or 0 */
    const char *metavar;      /* "N", "MM", "NZ,NY,NX"; NULL for a flag */
    int required;
    const char *default_text; /* shown as "(default: ...)"; NULL: none */
    const char *help;         /* one line, with units */
} cli_option;

#define CLI_MAX_OPTIONS 24
#define CLI_MAX_POSITIONAL 4

typedef struct cli_command {
    const char *usage;        /* "project --geometry FILE --volume FILE -o FILE [options]" */
    const char *summary;      /* what the command does, one or a few lines */
    const cli_option *options;/* terminated by an entry with name NULL */
    int min_positional, max_positional;
} cli_command;

typedef struct cli_args {
    cli_context *ctx;
    const cli_command *cmd;
    const char *value[CLI_MAX_OPTIONS]; /* per option; NULL when absent */
    int given[CLI_MAX_OPTIONS];         /* flags and options seen */
    const char *positional[CLI_MAX_POSITIONAL];
    int n_positional;
} cli_args;

/* Returned by cli_parse when the command should go on. */
#define CLI_PARSED (-1)

/* Parses argv[1..argc) (argv[0] is the command name). Returns CLI_PARSED,
 * CLI_EXIT_OK after printing --help, or CLI_EXIT_USAGE after an error. */
int cli_parse(cli_context *ctx, const cli_command *cmd, int argc, char **argv, cli_args *out);
void cli_print_help(const cli_context *ctx, const cli_command *cmd);

/* Takes every `name VALUE` / `name=VALUE` (a repeatable option such as
 * --set, which the option table cannot hold) out of argv into values;
 * returns the new argc, or -1 when a value is missing or there are more
 * than max_values. */
int cli_take_sets(int argc, char **argv, const char *name, const char **values, int max_values,
                  int *n_values);

/* The raw value of option `name` ("--views"), NULL when not given. */
const char *cli_value(const cli_args *a, const char *name);
int cli_flag(const cli_args *a, const char *name);
const char *cli_string(const cli_args *a, const char *name, const char *fallback);

/* Converters: keep `*out` at the default when the option is absent; return
 * 0, or CLI_EXIT_USAGE after printing an error naming the option. */
int cli_int(const cli_args *a, const char *name, int64_t min, int64_t max, int64_t *out);
int cli_double(const cli_args *a, const char *name, double min, double max, double *out);
/* "A,B,C" with exactly `n` values, or one value used for all `n`. */
int cli_ints(const cli_args *a, const char *name, int n, int64_t min, int64_t max,
             int64_t *out);
int cli_doubles(const cli_args *a, const char *name, int n, double min, double max,
                double *out);
/* One of `choices` (NULL-terminated): `*index` is its position. */
int cli_choice(const cli_args *a, const char *name, const char *const *choices, int *index);
int cli_filter(const cli_args *a, const char *name, cbct_filter *out);

/* Parsers of single numbers used by the converters (whole string, finite). */
int cli_parse_int(const char *text, int64_t *out);
int cli_parse_double(const char *text, double *out);

#endif
