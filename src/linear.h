// linear.h — the fully connected layer, in PyTorch's layout:
//     out (R,OUT) = in (R,IN) · weight (OUT,IN)^T + bias (OUT)
// R is any number of rows: B*T tokens at once. bias may be NULL.
#ifndef LINEAR_H
#define LINEAR_H

void linear_forward(float *out, const float *in, const float *weight, const float *bias, int R,
                    int IN, int OUT);

#endif
