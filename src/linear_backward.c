// linear_backward.c — the backward pass of the fully connected layer: three
// matrix products' worth of gradients, all through matmul, and the bias
// gradient summed over the rows with the columns shared out among the threads.
#include "linear.h"

#include <omp.h>
#include <stddef.h>
#include "matmul.h"
#include "vecmath.h"

// dbias (OUT) += the sum of the rows of dout (R,OUT). Each thread owns a range of
// columns and adds the rows in order: the same sums whatever the thread count.
VEC_CLONES
static void bias_backward(float *restrict dbias, const float *restrict dout, int R, int OUT) {
#pragma omp parallel
    {
        int threads = omp_get_num_threads(), id = omp_get_thread_num();
        int o0 = OUT * id / threads, o1 = OUT * (id + 1) / threads; // this thread's columns
        for (int r = 0; r < R; r++) {
            const float *row = dout + (size_t)r * OUT; // (OUT)
#pragma omp simd
            for (int o = o0; o < o1; o++) dbias[o] += row[o];
        }
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
