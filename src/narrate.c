// narrate.c — the chapter programs' shared exit on outside failures, and the
// numbers they quote about arrays.
#include "narrate.h"

#include <assert.h>
#include <math.h>

void narrate_check(bool ok, const char *program, const Error *err) {
    if (!ok) error_exit(program, err, 1);
}

float narrate_max_abs_difference(const float *a, const float *b, int n) {
    // a, b (n)
    float worst = 0.0f;
    for (int i = 0; i < n; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
    return worst;
}

double narrate_mean(const float *x, int n) {
    // x (n)
    assert(n > 0);
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += x[i];
    return sum / n;
}

double narrate_std(const float *x, int n) {
    // x (n)
    double mean = narrate_mean(x, n), sum = 0.0;
    for (int i = 0; i < n; i++) sum += (x[i] - mean) * (x[i] - mean);
    return sqrt(sum / n);
}

int narrate_argmax(const float *x, int n) {
    // x (n)
    assert(n > 0);
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}
