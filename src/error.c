// error.c — error messages for outside failures, and allocation that reports
// running out of memory instead of returning NULL.
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool error_set(Error *err, const char *fmt, ...) {
    if (err == NULL) return false;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return false;
}

void error_exit(const char *program, const Error *err, int status) {
    fprintf(stderr, "%s: %s\n", program, err->message);
    exit(status);
}

void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (p == NULL && bytes > 0) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (p == NULL && count > 0 && size > 0) {
        fprintf(stderr, "out of memory allocating %zu x %zu bytes\n", count, size);
        exit(1);
    }
    return p;
}
