// linear.c — the fully connected layer over many rows at once, through matmul.
#include "linear.h"

#include <stddef.h>
#include "matmul.h"

// region: linear-forward
void linear_forward(float *out, const float *in, const float *weight, const float *bias, int R,
                    int IN, int OUT) {
    // out (R,OUT), in (R,IN), weight (OUT,IN), bias (OUT) or NULL
    matmul(out, in, weight, R, OUT, IN, MATMUL_BT); // in · weight^T
    if (bias == NULL) return;
    for (int r = 0; r < R; r++) {
        float *row = out + (size_t)r * OUT; // (OUT)
        for (int o = 0; o < OUT; o++) row[o] += bias[o];
    }
}
// endregion: linear-forward
