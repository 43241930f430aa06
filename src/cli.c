// cli.c — table-driven command-line parsing for the chapter programs, and rows
// of their option tables that they share.
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cli_program_name(const char *argv0) {
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

static const CliOption *find_option(const CliOption *options, int count, const char *name,
                                    size_t len) {
    for (int i = 0; i < count; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static bool parse_number(const CliOption *opt, const char *text, Error *err) {
    errno = 0;
    char *end;
    double x = opt->kind == CLI_INT ? (double)strtol(text, &end, 10) : strtod(text, &end);
    const char *expected = opt->kind == CLI_INT ? "an integer" : "a number";
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(x))
        return error_set(err, "--%s expects %s, got '%s'", opt->name, expected, text);
    if (x < opt->min || x > opt->max || (opt->kind == CLI_INT && (x < INT_MIN || x > INT_MAX)))
        return error_set(err, "--%s must be between %g and %g, got %s", opt->name, opt->min,
                         opt->max, text);
    if (opt->kind == CLI_INT)
        *(int *)opt->value = (int)x;
    else
        *(float *)opt->value = (float)x;
    return true;
}

static bool set_value(const CliOption *opt, const char *text, Error *err) {
    if (opt->kind == CLI_STRING) {
        if (text[0] == '\0')
            return error_set(err, "--%s expects a value, got an empty string", opt->name);
        *(const char **)opt->value = text;
        return true;
    }
    return parse_number(opt, text, err);
}

// One option at argv[*i]; advances *i past its value.
static CliResult parse_one(int argc, char **argv, int *i, const CliOption *options, int count,
                           Error *err) {
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return CLI_HELP;
    if (strncmp(arg, "--", 2) != 0) {
        error_set(err, "unexpected argument '%s' (options start with --; see --help)", arg);
        return CLI_BAD;
    }
    const char *name = arg + 2;
    const char *equals = strchr(name, '=');
    size_t len = equals ? (size_t)(equals - name) : strlen(name);
    const CliOption *opt = find_option(options, count, name, len);
    if (opt == NULL) {
        error_set(err, "unknown option '--%.*s' (see --help)", (int)len, name);
        return CLI_BAD;
    }
    if (opt->kind == CLI_SWITCH) {
        if (equals) {
            error_set(err, "--%s takes no value", opt->name);
            return CLI_BAD;
        }
        *(bool *)opt->value = true;
        return CLI_OK;
    }
    const char *text = equals ? equals + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (text == NULL) {
        error_set(err, "--%s expects a value", opt->name);
        return CLI_BAD;
    }
    return set_value(opt, text, err) ? CLI_OK : CLI_BAD;
}

CliResult cli_parse(int argc, char **argv, const CliOption *options, int count, Error *err) {
    for (int i = 1; i < argc; i++) {
        CliResult r = parse_one(argc, argv, &i, options, count, err);
        if (r != CLI_OK) return r;
    }
    return CLI_OK;
}

static void print_default(FILE *out, const CliOption *opt) {
    switch (opt->kind) {
    case CLI_INT: fprintf(out, " (default %d)", *(int *)opt->value); break;
    case CLI_FLOAT: fprintf(out, " (default %g)", *(float *)opt->value); break;
    case CLI_STRING: {
        const char *s = *(const char **)opt->value;
        if (s) fprintf(out, " (default %s)", s);
        break;
    }
    case CLI_SWITCH: break;
    }
}

void cli_print_usage(FILE *out, const char *program, const char *summary, const CliOption *options,
                     int count) {
    fprintf(out, "usage: %s [options]\n\n%s\n\noptions:\n", program, summary);
    for (int i = 0; i < count; i++) {
        const CliOption *opt = &options[i];
        const char *arg = opt->arg                 ? opt->arg
                          : opt->kind == CLI_INT   ? "N"
                          : opt->kind == CLI_FLOAT ? "X"
                                                   : "TEXT";
        char flag[64];
        snprintf(flag, sizeof flag, "--%s%s%s", opt->name, opt->kind == CLI_SWITCH ? "" : " ",
                 opt->kind == CLI_SWITCH ? "" : arg);
        fprintf(out, "  %-20s %s", flag, opt->help);
        print_default(out, opt);
        fputc('\n', out);
    }
    fprintf(out, "  %-20s %s\n", "--help", "print this help and exit");
}

void cli_parse_or_exit(int argc, char **argv, const char *summary, const CliOption *options,
                       int count) {
    const char *program = cli_program_name(argv[0]);
    for (int i = 1; i < argc; i++) // --help anywhere shows the defaults, not parsed values
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_usage(stdout, program, summary, options, count);
            exit(0);
        }
    Error err;
    if (cli_parse(argc, argv, options, count, &err) != CLI_OK) error_exit(program, &err, 2);
}

void cli_check_or_exit(bool ok, const char *program, const char *flag, int value,
                       const Error *err) {
    if (ok) return;
    fprintf(stderr, "%s: --%s %d: %s\n", program, flag, value, err->message);
    exit(2);
}

CliOption cli_index_option(int *index, const char *help) {
    return (CliOption){"index", CLI_INT, index, help, 0, 9999, NULL};
}

CliOption cli_out_option(const char **dir) {
    return (CliOption){"out", CLI_STRING, dir, "directory for the figures", 0, 0, "DIR"};
}
