// text.c — numbers written for people.
#include "text.h"

#include <assert.h>
#include <stdio.h>

const char *text_with_commas(double x, char *buf, size_t size) {
    assert(size > 0);
    char digits[48];
    int n = snprintf(digits, sizeof digits, "%.0f", x);
    int first = digits[0] == '-'; // the sign is not a digit
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t comma = i > first && (n - i) % 3 == 0;
        if (k + comma + 1 >= size) break; // no room for it and the final '\0'
        if (comma) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}
