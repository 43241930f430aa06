// linear.h — the fully connected layer, in PyTorch's layout:
//     out (R,OUT) = in (R,IN) · weight (OUT,IN)^T + bias (OUT)
// R is any number of rows: B*T tokens at once. bias may be NULL.
//
// Every layer is a pair declared together, xxx_forward and xxx_backward, as
// this one. A backward pass lives in its own xxx_backward.c, linked from
// chapter 06 on. It is given the gradient of the loss with respect to the
// layer's output (`dout`), and ADDS (+=) the gradients with respect to the
// input and the parameters into the `d...` buffers, so that a tensor used
// twice (a residual stream) collects both contributions; the caller zeroes a
// buffer before its first contribution. The few that write instead (the
// loss's dlogits, scratch buffers) say so. Inputs and activations are those the forward pass
// saw; a d-pointer for a gradient that is not wanted may be NULL where the
// function's first lines say so. The forward line each backward
// differentiates is quoted beside it.
#ifndef LINEAR_H
#define LINEAR_H

void linear_forward(float *out, const float *in, const float *weight, const float *bias, int R,
                    int IN, int OUT);

// din (R,IN) += dout · weight;  dweight (OUT,IN) += dout^T · in;  dbias (OUT) += Σ_rows dout
// from dout (R,OUT); each d-pointer may be NULL.
void linear_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, int R, int IN, int OUT);

#endif
