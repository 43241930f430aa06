// fuzz/cli.c — the command-line parser (cli.h's cli_parse) on a table with
// every kind of option: the input is argv[1..], one argument per line.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The input as NUL-terminated lines, each an argument (an argument cannot
    // hold a newline here, nor, as in a real argv, a NUL).
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 1] = {"fuzz_cli"};
    int argc = 1;
    for (char *p = text; argc < MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (nl == NULL) break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;

    int patch = 7, index = 0;
    float lr = 2e-3f;
    const char *dir = NULL, *out = "figures";
    bool augment = false;
    const CliOption options[] = {
        {"patch", CLI_INT, &patch, "patch size", 1, 28, NULL},
        {"lr", CLI_FLOAT, &lr, "learning rate", 0, 1, NULL},
        {"name", CLI_STRING, &dir, "a name", 0, 0, "TEXT"},
        {"augment", CLI_SWITCH, &augment, "a switch", 0, 0, NULL},
        cli_index_option(&index, "a test image"),
        cli_out_option(&out),
    };
    Error err;
    (void)cli_parse(argc, argv, options, (int)(sizeof options / sizeof options[0]), &err);
    free(text);
    return 0;
}
