// cli.h — the command line shared by the chapter programs. A program lists its
// options in a table; cli_parse fills the values, answers --help, and refuses
// unknown flags, missing values, bad numbers and out-of-range numbers.
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "error.h"

typedef enum {
    CLI_INT,    // value: int *
    CLI_FLOAT,  // value: float *
    CLI_STRING, // value: const char ** (points into argv)
    CLI_SWITCH, // value: bool *, set to true when the flag is given; takes no value
} CliKind;

typedef struct {
    const char *name; // "patch" for --patch
    CliKind kind;
    void *value;      // holds the default before parsing
    const char *help; // one line for --help
    double min, max;  // accepted range for CLI_INT and CLI_FLOAT (inclusive)
    const char *arg;  // the value's name in --help ("DIR", "FILE"); NULL: N, X or TEXT
} CliOption;

typedef enum { CLI_OK, CLI_HELP, CLI_BAD } CliResult;

// Parses argv[1..argc-1]: "--name value" or "--name=value". On CLI_BAD, err
// holds one line naming the flag and the problem.
CliResult cli_parse(int argc, char **argv, const CliOption *options, int count, Error *err);

// Usage text: summary, then one line per option with its current (default) value.
void cli_print_usage(FILE *out, const char *program, const char *summary, const CliOption *options,
                     int count);

// What a chapter's main() calls: --help prints usage and exits 0; a bad
// command line prints one line on stderr and exits 2.
void cli_parse_or_exit(int argc, char **argv, const char *summary, const CliOption *options,
                       int count);

// For what a table's ranges cannot judge (a patch size must divide the image):
// when ok is false, prints "program: --flag value: " and err's message on stderr
// and exits 2, as for any bad command line.
void cli_check_or_exit(bool ok, const char *program, const char *flag, int value, const Error *err);

// Rows the chapter programs' tables share: --index N (a test image, 0..9999; help
// says what the chapter does with it) and --out DIR (where the figures go). The
// --data row is fashion_mnist_data_option.
CliOption cli_index_option(int *index, const char *help);
CliOption cli_out_option(const char **dir);

// The program's name without its directory: "ch01_patches".
const char *cli_program_name(const char *argv0);

#endif
