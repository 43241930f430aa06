// maxpool.h — max pooling over K x K windows with stride and padding, as
// torch.nn.functional.max_pool2d: each output is the largest input in its
// window, the padding never chosen (it acts as -inf). The ResNet root pools
// with K = 3, stride 2, padding 1, halving the feature map.
//
// Ho = (H + 2*pad - K) / stride + 1 (conv2d_out_size), and pad <= K/2 as torch
// requires, so every window holds at least one pixel of the image.
#ifndef MAXPOOL_H
#define MAXPOOL_H

// out (B,C,Ho,Wo) from in (B,C,H,W). argmax (B,C,Ho,Wo) keeps, for each output,
// where its maximum came from, as y·W + x within its input plane (torch's
// indices); it may be NULL when no backward pass follows. Ties go to the first
// maximum in the window's row-by-row order, and a NaN is taken over any number
// (the last NaN of the window), both as torch.
void maxpool_forward(float *out, int *argmax, const float *in, int B, int C, int H, int W, int K,
                     int stride, int pad);

// The backward pass (the convention: linear.h): din (B,C,H,W) += each dout
// (B,C,Ho,Wo) at the input its argmax (B,C,Ho,Wo) names; overlapping windows
// that chose the same input add there.
void maxpool_backward(float *din, const float *dout, const int *argmax, int B, int C, int H, int W,
                      int K, int stride, int pad);

#endif
