// gelu.h — the Gaussian error linear unit (Hendrycks and Gimpel, 2016) in its
// exact form, as in the ViT paper and torch.nn.GELU():
//     gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
#ifndef GELU_H
#define GELU_H

void gelu_forward(float *out, const float *x, int n);   // out, x: (n)

// The backward pass (the convention: linear.h): dx (n) += dout (n) * (Phi(x) + x phi(x))
void gelu_backward(float *dx, const float *dout, const float *x, int n);

#endif
