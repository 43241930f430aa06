// narrate.h — what the chapter programs share when they tell their reader what
// happened: one way out when something outside the program fails, and the few
// numbers they quote about arrays of floats.
//
//     narrate_check(make_dirs(dir, &err), program, &err); // or "program: message", exit 1
//     printf("largest difference %g\n", narrate_max_abs_difference(got, want, n));
#ifndef NARRATE_H
#define NARRATE_H

#include <stdbool.h>
#include "error.h"

// For an outside failure (a file that cannot be read or written): when ok is
// false, prints "program: " and err's message on stderr and exits with status 1.
void narrate_check(bool ok, const char *program, const Error *err);

// The largest |a[i] - b[i]| over a, b (n); 0 when n = 0.
float narrate_max_abs_difference(const float *a, const float *b, int n);

// The mean of x (n), n > 0, summed in double.
double narrate_mean(const float *x, int n);

// The standard deviation of x (n), n > 0, over n (not n - 1), in double.
double narrate_std(const float *x, int n);

// The index of the largest value in x (n), n > 0; the first of equal ones.
int narrate_argmax(const float *x, int n);

#endif
