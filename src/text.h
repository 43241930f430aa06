// text.h — numbers written for people: 86567656 as "86,567,656".
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

// x rounded to an integer, with a comma between groups of three digits, into
// buf (size > 0 bytes, cut short if too small); returns buf, so it can go straight
// into a printf argument.
const char *text_with_commas(double x, char *buf, size_t size);

#endif
