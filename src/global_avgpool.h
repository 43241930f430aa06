// global_avgpool.h — global average pooling: each channel's feature map
// becomes its mean, (B,C,H,W) -> (B,C), as torch's adaptive_avg_pool2d(x, 1)
// or x.mean((2, 3)). What a CNN's classifier reads, and what a ViT's mean-pool
// head does to its tokens.
#ifndef GLOBAL_AVGPOOL_H
#define GLOBAL_AVGPOOL_H

// out (B,C) from in (B,C,H,W).
void global_avgpool_forward(float *out, const float *in, int B, int C, int H, int W);

// The backward pass (the convention: linear.h): din (B,C,H,W) += dout (B,C) / (H·W)
// at every position of its plane.
void global_avgpool_backward(float *din, const float *dout, int B, int C, int H, int W);

#endif
