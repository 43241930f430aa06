// relu.c — max(x, 0) element by element, the elements shared out among the threads.
#include "relu.h"

void relu_forward(float *out, const float *x, int n) {
    // out (n), x (n); a NaN fails x < 0 and is kept
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) out[i] = x[i] < 0.0f ? 0.0f : x[i];
}
