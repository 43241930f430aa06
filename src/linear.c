// linear.c — the fully connected layer over many rows at once, through matmul.
#include "linear.h"

#include <stddef.h>
#include "matmul.h"
#include "parallel.h"

// Rows lo .. hi-1 of out (R,OUT) set to bias (OUT).
static void bias_rows(float *out, const float *bias, size_t lo, size_t hi, int OUT) {
    for (size_t r = lo; r < hi; r++) {
        float *row = out + r * OUT; // (OUT)
#pragma omp simd
        for (int o = 0; o < OUT; o++) row[o] = bias[o];
    }
}

// region: linear-forward
void linear_forward(float *out, const float *in, const float *weight, const float *bias, int R,
                    int IN, int OUT) {
    // out (R,OUT), in (R,IN), weight (OUT,IN), bias (OUT) or NULL
    if (bias == NULL) {
        matmul(out, in, weight, R, OUT, IN, MATMUL_BT); // in · weight^T
        return;
    }
    // every row starts as the bias (the rows shared out among the threads, parallel.h),
    // and the product is added to it
    if (!parallel_worth()) {
        bias_rows(out, bias, 0, (size_t)R, OUT);
    } else {
#pragma omp parallel
        {
            size_t lo, hi;
            parallel_share((size_t)R, &lo, &hi);
            bias_rows(out, bias, lo, hi, OUT);
        }
    }
    matmul(out, in, weight, R, OUT, IN, MATMUL_BT | MATMUL_ACCUMULATE); // + in · weight^T
}
// endregion: linear-forward
