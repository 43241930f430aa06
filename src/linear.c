// linear.c — the fully connected layer over many rows at once, through matmul.
#include "linear.h"

#include <stddef.h>
#include "matmul.h"

// region: linear-forward
void linear_forward(float *out, const float *in, const float *weight, const float *bias, int R,
                    int IN, int OUT) {
    // out (R,OUT), in (R,IN), weight (OUT,IN), bias (OUT) or NULL
    if (bias == NULL) {
        matmul(out, in, weight, R, OUT, IN, MATMUL_BT); // in · weight^T
        return;
    }
    // every row starts as the bias, and the product is added to it
#pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        float *row = out + (size_t)r * OUT; // (OUT)
#pragma omp simd
        for (int o = 0; o < OUT; o++) row[o] = bias[o];
    }
    matmul(out, in, weight, R, OUT, IN, MATMUL_BT | MATMUL_ACCUMULATE); // + in · weight^T
}
// endregion: linear-forward
