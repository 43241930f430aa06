// conv2d_circular.c — circular padding, then the plain convolution.
#include "conv2d_circular.h"

#include <assert.h>

#include "conv2d.h"

// a mod n in 0..n-1, for a >= -n.
static int wrap(int a, int n) {
    return (a + n) % n;
}

size_t conv2d_circular_scratch_floats(int Cin, int H, int W, int pad) {
    return (size_t)Cin * (H + 2 * pad) * (W + 2 * pad);
}

// region: conv2d-circular
void pad_circular(float *out, const float *in, int C, int H, int W, int pad) {
    // out (C,H+2·pad,W+2·pad), in (C,H,W)
    assert(pad >= 0 && pad <= H && pad <= W);
    int Hp = H + 2 * pad, Wp = W + 2 * pad;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++)
                out[((size_t)c * Hp + y) * Wp + x] =
                    in[((size_t)c * H + wrap(y - pad, H)) * W + wrap(x - pad, W)];
}

void conv2d_circular_forward(float *out, float *scratch, const float *in, const float *weight,
                             const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                             int stride, int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    for (int b = 0; b < B; b++) {
        pad_circular(scratch, in + (size_t)b * Cin * H * W, Cin, H, W, pad);
        conv2d_forward(out + (size_t)b * Cout * Ho * Wo, scratch, weight, bias, 1, Cin, H + 2 * pad,
                       W + 2 * pad, Cout, K, stride, 0);
    }
}
// endregion: conv2d-circular
