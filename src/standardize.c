// standardize.c — rows to mean 0 and variance 1 (the biased variance, as LayerNorm).
#include "standardize.h"

#include <math.h>
#include <stddef.h>

void standardize_rows(float *x, int R, int C, float eps) {
    for (int r = 0; r < R; r++) {
        float *row = x + (size_t)r * C; // (C)
        double mean = 0.0, var = 0.0;
        for (int c = 0; c < C; c++) mean += row[c];
        mean /= C;
        for (int c = 0; c < C; c++) var += (row[c] - mean) * (row[c] - mean);
        float rstd = (float)(1.0 / sqrt(var / C + eps));
        for (int c = 0; c < C; c++) row[c] = (float)(row[c] - mean) * rstd;
    }
}
