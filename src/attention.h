// attention.h — scaled dot-product attention for one head (Vaswani et al., 2017):
//     att = softmax(q k^T / sqrt(hs))      (B,T,T), each row sums to 1
//     out = att · v                        (B,T,hs)
// q, k, v (B,T,hs) are the queries, keys and values, already projected.
#ifndef ATTENTION_H
#define ATTENTION_H

// out (R,N) = softmax of each row of in (R,N); out may equal in.
void softmax_rows(float *out, const float *in, int R, int N);

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int B, int T, int hs);

// The backward pass (the convention: linear.h): dq, dk, dv (B,T,hs) += from
// dout (B,T,hs), given att (B,T,T) and q, k, v as the forward pass saw them;
// datt (B,T,T) is scratch space, overwritten.
void attention_backward(float *dq, float *dk, float *dv, float *datt, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B,
                        int T, int hs);

#endif
