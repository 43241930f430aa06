// relu.h — the rectified linear unit, max(x, 0), the ResNet's nonlinearity
// (torch.nn.ReLU; a NaN stays NaN, as in torch).
#ifndef RELU_H
#define RELU_H

// out (n) from x (n); out may be x (in place).
void relu_forward(float *out, const float *x, int n);

// The backward pass (the convention: linear.h): dx (n) += dout (n) where x > 0,
// nothing elsewhere (at 0 too, as torch). x (n) is the forward pass's input or,
// the same thing here, its output: each is > 0 exactly where the other is, so a
// ReLU done in place can be differentiated.
void relu_backward(float *dx, const float *dout, const float *x, int n);

#endif
