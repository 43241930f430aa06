// weight_standardize.h — weight standardisation (Qiao et al., 2019), what
// makes the hybrid's ResNet convolutions StdConv: before each convolution,
// every output channel's Cin·K·K weights are brought to mean 0 and standard
// deviation 1,
//
//     wstd[o] = (w[o] - mean(w[o])) / (std(w[o]) + eps)      for o < Cout,
//
// with the biased standard deviation, and the convolution uses wstd. It is
// LayerNorm without weight and bias over each output channel's weights, with
// eps added to the standard deviation rather than to the variance.
//
// eps = 1e-5 outside the square root, as the paper's own code defines it
// (google-research/vision_transformer, vit_jax/models_resnet.py:
// weight_standardize(w, axis=[0, 1, 2], eps=1e-5) computes
// w / (jnp.std(w) + eps)): the weights of its hybrid models were trained with
// it. timm's port of those models (StdConv2dSame with eps=1e-8, through
// F.batch_norm) puts eps inside the square root, sqrt(var + 1e-8); for
// weights whose std is about 0.01 the two differ by about 1e-3 of wstd.
//
// Sizes: Cout output channels, fan_in = Cin·K·K weights each.
#ifndef WEIGHT_STANDARDIZE_H
#define WEIGHT_STANDARDIZE_H

#define WEIGHT_STANDARDIZE_EPS 1e-5f

// wstd (Cout,fan_in) from weight (Cout,fan_in); std (Cout) keeps each channel's
// standard deviation (before eps) for the backward pass, and may be NULL.
void weight_standardize_forward(float *wstd, float *std, const float *weight, int Cout, int fan_in);

// The backward pass (the convention: linear.h): dweight (Cout,fan_in) += from
// dwstd (Cout,fan_in), the gradient of the standardised weight (what the
// convolution's backward pass gave as its dweight); wstd and std as the
// forward pass wrote them.
void weight_standardize_backward(float *dweight, const float *dwstd, const float *wstd,
                                 const float *std, int Cout, int fan_in);

#endif
