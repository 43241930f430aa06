// layernorm.h — layer normalisation (Ba et al., 2016) over the last dimension:
//     out = (x - mean) / sqrt(var + eps) * weight + bias      per row of C
// with the biased variance, as torch.nn.LayerNorm. The ViT uses eps = 1e-6.
#ifndef LAYERNORM_H
#define LAYERNORM_H

#define LAYERNORM_EPS 1e-6f

// out (R,C) from x (R,C); weight, bias (C). mean, rstd (R) keep each row's
// mean and 1/sqrt(var + eps) for the backward pass; either may be NULL.
void layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int R, int C);

// The backward pass (the convention: linear.h): dx (R,C), dweight, dbias (C)
// += from dout (R,C); x (R,C) and mean, rstd (R) as layernorm_forward saw and
// saved them.
void layernorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int R, int C);

#endif
