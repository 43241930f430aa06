// linear_backward.c — the backward pass of the fully connected layer: three
// matrix products' worth of gradients, all through matmul, and the bias
// gradient summed over the rows with the columns shared out among the threads.
#include "linear.h"

#include <omp.h>
#include <stddef.h>
#include "matmul.h"
#include "parallel.h"
#include "vecmath.h"

// dbias (OUT) += the sum of the rows of dout (R,OUT). Each thread owns a range of
// columns and adds the rows in order: the same sums whatever the thread count.
// Columns o0 .. o1-1.
VEC_INLINE void bias_columns(float *restrict dbias, const float *restrict dout, int R, int OUT,
                             size_t o0, size_t o1) {
    for (int r = 0; r < R; r++) {
        const float *row = dout + (size_t)r * OUT; // (OUT)
#pragma omp simd
        for (size_t o = o0; o < o1; o++) dbias[o] += row[o];
    }
}

VEC_CLONES
static void bias_backward(float *restrict dbias, const float *restrict dout, int R, int OUT) {
    if (!parallel_worth()) { // parallel.h
        bias_columns(dbias, dout, R, OUT, 0, (size_t)OUT);
        return;
    }
#pragma omp parallel
    {
        size_t o0, o1; // this thread's columns
        parallel_share((size_t)OUT, &o0, &o1);
        bias_columns(dbias, dout, R, OUT, o0, o1);
    }
}

// region: linear-backward
void linear_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, int R, int IN, int OUT) {
    // din (R,IN), dweight (OUT,IN), dbias (OUT): each may be NULL; dout (R,OUT), in (R,IN)
    // forward: out = in · weight^T + bias
    if (din != NULL) matmul(din, dout, weight, R, IN, OUT, MATMUL_ACCUMULATE); // dout · weight
    if (dweight != NULL)
        matmul(dweight, dout, in, OUT, IN, R, MATMUL_AT | MATMUL_ACCUMULATE); // dout^T · in
    if (dbias != NULL) bias_backward(dbias, dout, R, OUT);
}
// endregion: linear-backward
