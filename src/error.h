// error.h — the message a library function leaves when something outside the
// program fails (a missing file, a bad header). The library fills it in; the
// caller decides how to report it. Programmer errors are asserts instead.
#ifndef ERROR_H
#define ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char message[512]; // one line: "path: what is wrong"
} Error;

// Formats the message like printf. err may be NULL (the message is dropped).
// Always returns false, so a failing function can end with `return error_set(...)`.
bool error_set(Error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Prints "program: message" on stderr and exits with the given status.
_Noreturn void error_exit(const char *program, const Error *err, int status);

// malloc/calloc that report "out of memory" with the size and exit(1).
void *xmalloc(size_t bytes);
void *xcalloc(size_t count, size_t size);

#endif
