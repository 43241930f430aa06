// rollout.h — attention rollout (Abnar and Zuidema, "Quantifying Attention
// Flow in Transformers", 2020), as the ViT paper uses it for its Figure 6:
// how much of each input token reaches each output token through all the
// layers. For layer l with weights att_l (NH,T,T):
//     A_l = the mean of its heads                     (T,T)
//     Â_l = A_l + I, each row divided by its sum      (the residual path)
//     R   = Â_L · Â_(L−1) ··· Â_1                     (T,T)
// Row 0 of R, the class token's, over the patch tokens 1..N is what the paper
// draws over the image. Every Â_l is row-stochastic, so every row of R sums to 1.
#ifndef ROLLOUT_H
#define ROLLOUT_H

// Â (T,T) from one layer's weights att (NH,T,T): the heads' mean, plus the
// identity, rows renormalised.
void rollout_layer(float *out, const float *att, int NH, int T);

// R (T,T) through L layers: att[l] points at layer l's weights (NH,T,T) for one
// image (layer 0 the first). scratch holds 2·T·T floats.
void rollout(float *out, const float *const *att, int L, int NH, int T, float *scratch);

#endif
