// groupnorm.h — group normalisation (Wu and He, 2018), as torch.nn.GroupNorm:
// the C channels of each image are cut into G groups of C/G channels, and each
// group's (C/G)·H·W values are normalised together,
//
//     out = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]
//
// with the group's mean and biased variance and a learned scale and shift per
// channel. Unlike BatchNorm it does not look across the batch, so it behaves
// the same in training and in testing and with any batch size; the hybrid's
// ResNet uses it after every convolution (32 groups in the paper).
//
// eps = 1e-6: the paper's code uses flax's nn.GroupNorm with its defaults (32
// groups, epsilon 1e-6); torch's default would be 1e-5. LayerNorm here uses
// the same 1e-6, so GroupNorm with G = 1 is LayerNorm over each image.
#ifndef GROUPNORM_H
#define GROUPNORM_H

#define GROUPNORM_EPS 1e-6f

// out (B,C,H,W) from x (B,C,H,W); weight, bias (C); G divides C. mean, rstd
// (B,G) keep each group's mean and 1/sqrt(var + eps) for the backward pass;
// either may be NULL.
void groupnorm_forward(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int B, int C, int H, int W, int G);

// The backward pass (the convention: linear.h): dx (B,C,H,W), dweight, dbias
// (C) += from dout (B,C,H,W), each d-pointer may be NULL; x as the forward
// pass saw it, mean and rstd (B,G) as it saved them.
void groupnorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int B, int C,
                        int H, int W, int G);

// The backward pass of a GroupNorm and the ReLU after it, y = ReLU(groupnorm(x)),
// in one: as relu_backward of dout (y's gradient) into a zeroed buffer and then
// groupnorm_backward from that buffer, without the buffer and its two passes.
// y (B,C,H,W) is the ReLU's output (or its input, the GroupNorm's output: each
// is > 0 exactly where the other is).
void groupnorm_relu_backward(float *dx, float *dweight, float *dbias, const float *dout,
                             const float *y, const float *x, const float *weight, const float *mean,
                             const float *rstd, int B, int C, int H, int W, int G);

#endif
