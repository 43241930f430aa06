// conv2d_gemm_backward.c — the backward pass of the convolution through
// matmul: per image (or per chunk of images), the weight's gradient from the
// columns, the input's from the columns' gradient added back into the image
// by col2im.
#include "conv2d_gemm.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
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

// grad (Cout, n·P) = the chunk's dout (m,Cout,P) side by side, image j's from
// column j·P, zero for the n - m images missing.
static void chunk_gradient(float *grad, const float *dout, int m, int n, int Cout, int P) {
    size_t N = (size_t)n * P;
    for (int c = 0; c < Cout; c++) {
        float *row = grad + (size_t)c * N; // (N)
        for (int j = 0; j < m; j++)
            memcpy(row + (size_t)j * P, dout + ((size_t)j * Cout + c) * P, P * sizeof(float));
        memset(row + (size_t)m * P, 0, (N - (size_t)m * P) * sizeof(float));
    }
}

void conv2d_gemm_chunked_backward(float *din, float *dweight, float *dbias, float *scratch,
                                  const float *dout, const float *in, const float *weight, int B,
                                  int Cin, int H, int W, int Cout, int K, int stride, int pad) {
    // din (B,Cin,H,W), dweight (Cout,Cin,K,K), dbias (Cout): += and each may be NULL;
    // scratch (conv2d_gemm_chunk_scratch_floats); dout (B,Cout,Ho,Wo), in (B,Cin,H,W)
    // forward: prod = weight · cols, cols = the chunk's columns side by side
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    int P = Ho * Wo, R = Cin * K * K, n = conv2d_gemm_chunk(Ho, Wo), N = n * P;
    float *cols = scratch, *grad = scratch + (size_t)R * N; // (R,N) cols, then dcols; (Cout,N)
    for (int b0 = 0; b0 < B; b0 += n) {
        int m = B - b0 < n ? B - b0 : n; // images in this chunk
        chunk_gradient(grad, dout + (size_t)b0 * Cout * P, m, n, Cout, P);
        if (dbias != NULL)
            for (int c = 0; c < Cout; c++) {
                float sum = 0.0f;
                for (int i = 0; i < N; i++) sum += grad[(size_t)c * N + i];
                dbias[c] += sum;
            }
        const float *images = in + (size_t)b0 * Cin * H * W; // (m,Cin,H,W)
        if (dweight != NULL) {
            conv2d_im2col_chunk(cols, images, m, n, Cin, H, W, K, stride, pad);
            matmul(dweight, grad, cols, Cout, R, N, MATMUL_BT | MATMUL_ACCUMULATE); // grad · cols^T
        }
        if (din == NULL) continue;
        matmul(cols, weight, grad, R, N, Cout, MATMUL_AT); // dcols = weight^T · grad
        conv2d_col2im_chunk(din + (size_t)b0 * Cin * H * W, cols, m, n, Cin, H, W, K, stride, pad);
    }
}
