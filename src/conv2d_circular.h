// conv2d_circular.h — chapter 02's convolution with circular padding instead
// of zeros: the image is wrapped around, as if drawn on a torus, so every
// output sees a full window and no position is a border
// (nn.Conv2d(..., padding_mode='circular')).
//
//     out (B,Cout,Ho,Wo) = pad_circular(in (B,Cin,H,W)) ⋆ weight (Cout,Cin,K,K) + bias (Cout)
//
// With stride 1 and pad = K/2 for an odd K it commutes exactly with every
// circular shift (src/shift.h): chapter 08's equivariance without a border.
#ifndef CONV2D_CIRCULAR_H
#define CONV2D_CIRCULAR_H

#include <stddef.h>

// out (C,H+2·pad,W+2·pad) = in (C,H,W) with a border of `pad` pixels taken
// from the opposite side, as torch's F.pad(x, (pad,)*4, mode='circular');
// pad <= H and pad <= W.
void pad_circular(float *out, const float *in, int C, int H, int W, int pad);

// Floats of scratch conv2d_circular_forward needs: one padded image.
size_t conv2d_circular_scratch_floats(int Cin, int H, int W, int pad);

// out (B,Cout,Ho,Wo) from in (B,Cin,H,W), weight (Cout,Cin,K,K) and bias (Cout)
// or NULL, Ho = conv2d_out_size(H, K, stride, pad): each image padded
// circularly into scratch, then chapter 02's conv2d_forward without padding.
void conv2d_circular_forward(float *out, float *scratch, const float *in, const float *weight,
                             const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                             int stride, int pad);

#endif
