// gelu.h — the Gaussian error linear unit (Hendrycks and Gimpel, 2016) in its
// exact form, as in torch.nn.GELU() and torchvision's ViT:
//     gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
// and in the tanh form the paper's own JAX code trained with (flax's nn.gelu,
// torch.nn.GELU(approximate='tanh')), within 5e-4 of the exact one:
//     gelu_tanh(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
#ifndef GELU_H
#define GELU_H

// Which of the two a model's MLP uses; a checkpoint's metadata "gelu" names it.
typedef enum { GELU_ERF = 0, GELU_TANH = 1 } GeluForm;

void gelu_forward(float *out, const float *x, int n); // out, x: (n)

// The backward pass (the convention: linear.h): dx (n) += dout (n) * (Phi(x) + x phi(x))
void gelu_backward(float *dx, const float *dout, const float *x, int n);

void gelu_tanh_forward(float *out, const float *x, int n); // out, x: (n)
// dx (n) += dout (n) * d gelu_tanh / dx
void gelu_tanh_backward(float *dx, const float *dout, const float *x, int n);

// The form's forward and backward.
void gelu_form_forward(GeluForm form, float *out, const float *x, int n);
void gelu_form_backward(GeluForm form, float *dx, const float *dout, const float *x, int n);
// "erf" or "tanh".
const char *gelu_form_name(GeluForm form);

#endif
