// fuzz_file.h — where a fuzz target puts its input when the reader under test
// takes a path: one file in a directory of this process's own
// ($TMPDIR or /tmp, "vit-fuzz-XXXXXX"), rewritten for every input; the file
// and the directory are removed when the process exits normally. A crash leaves
// them behind, but libFuzzer has saved the input by then.
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[512];   // the process's directory, "" until the first input
static char fuzz_path[1024]; // the file in it

static void fuzz_cleanup(void) {
    unlink(fuzz_path);
    rmdir(fuzz_dir);
}

// Writes data (size bytes) to "<dir>/name" and returns that path; aborts if the
// file cannot be written (the machine's problem, not the reader's).
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size) {
    if (fuzz_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/vit-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(fuzz_dir) == NULL) abort();
        snprintf(fuzz_path, sizeof fuzz_path, "%s/%s", fuzz_dir, name);
        atexit(fuzz_cleanup);
    }
    FILE *f = fopen(fuzz_path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    return fuzz_path;
}

#endif
