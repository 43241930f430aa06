// conv2d_gemm_backward.c — the backward pass of the convolution through
// matmul: per image, the weight's gradient from the image's columns, the
// input's from the columns' gradient added back into the image by col2im.
#include "conv2d_gemm.h"

#include <assert.h>
#include <stdbool.h>
#include "conv2d.h"
#include "matmul.h"

void conv2d_gemm_backward(float *din, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *in, const float *weight, int B, int Cin,
                          int H, int W, int Cout, int K, int stride, int pad) {
    // din (B,Cin,H,W), dweight (Cout,Cin,K,K), dbias (Cout): += and each may be NULL;
    // scratch (conv2d_gemm_scratch_floats); dout (B,Cout,Ho,Wo), in (B,Cin,H,W)
    // forward: out = weight · cols + bias, cols = im2col(in)   (one image)
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    int P = Ho * Wo, R = Cin * K * K;
    bool direct = conv2d_gemm_scratch_floats(Cin, H, W, K, stride, pad) == 0;
    assert(direct || scratch != NULL);
    for (int b = 0; b < B; b++) {
        const float *g = dout + (size_t)b * Cout * P;      // (Cout,P)
        const float *image = in + (size_t)b * Cin * H * W; // (Cin,H,W)
        if (dbias != NULL)
            for (int c = 0; c < Cout; c++) {
                float sum = 0.0f;
                for (int p = 0; p < P; p++) sum += g[(size_t)c * P + p];
                dbias[c] += sum;
            }
        if (dweight != NULL) {
            const float *cols = image; // (R,P)
            if (!direct) {
                conv2d_im2col(scratch, image, Cin, H, W, K, stride, pad);
                cols = scratch;
            }
            matmul(dweight, g, cols, Cout, R, P, MATMUL_BT | MATMUL_ACCUMULATE); // dout · cols^T
        }
        if (din == NULL) continue;
        float *dimage = din + (size_t)b * Cin * H * W; // (Cin,H,W)
        if (direct) { // the columns are the image: weight^T · dout goes straight in
            matmul(dimage, weight, g, R, P, Cout, MATMUL_AT | MATMUL_ACCUMULATE);
        } else { // dcols = weight^T · dout (R,P) in the scratch, then back into the image
            matmul(scratch, weight, g, R, P, Cout, MATMUL_AT);
            conv2d_col2im(dimage, scratch, Cin, H, W, K, stride, pad);
        }
    }
}
