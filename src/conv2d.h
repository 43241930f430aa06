// conv2d.h — a plain 2D convolution (cross-correlation, as in PyTorch), with
// stride and zero padding:
//     out (B,Cout,Ho,Wo) = in (B,Cin,H,W) ⋆ weight (Cout,Cin,K,K) + bias (Cout)
// Written as direct loops: it is the definition that chapter 02's patch
// embedding is checked against, and the convolution of later chapters.
#ifndef CONV2D_H
#define CONV2D_H

// Ho = (H + 2*pad - K) / stride + 1
int conv2d_out_size(int H, int K, int stride, int pad);

void conv2d_forward(float *out, const float *in, const float *weight, const float *bias, int B,
                    int Cin, int H, int W, int Cout, int K, int stride, int pad);

#endif
