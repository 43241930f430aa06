// relu_backward.c — the ReLU's gradient: passed through where the input was
// positive, stopped elsewhere.
#include "relu.h"

#include "vecmath.h"

VEC_CLONES
void relu_backward(float *dx, const float *dout, const float *x, int n) {
    // dx (n) +=, dout (n), x (n): the forward's input or output
    // forward: out = max(x, 0)
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) {
        float g = dout[i]; // read either way: a select, not a branch, so it vectorises
        dx[i] += x[i] > 0.0f ? g : 0.0f;
    }
}
