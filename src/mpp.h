// mpp.h — the pieces of masked patch prediction, the paper's self-supervised
// pretext task (its appendix B.1.2, after BERT's masked language modelling):
//
//   1. corruption: half the patches of every image are chosen; of those, 80%
//      have their embedding replaced by a learnable [mask] embedding, 10% by
//      the embedding of another patch of the same image, and 10% are left as
//      they are (but still predicted);
//   2. targets: each patch's mean intensity, of the raw pixels in [0, 1],
//      quantised to 3 bits: 8 classes per channel (8^Cin in all);
//   3. the loss: a linear head on the encoder's output token of every
//      corrupted patch, cross-entropy against its target, averaged over the
//      corrupted patches only.
//
// Counts are whole numbers of patches; every one is rounded stochastically:
// x becomes floor(x + u) with u uniform in [0, 1), so it is exactly x on
// average and never more than one patch off in an image. For N patches:
// corrupted M = N/2 so rounded; masked = 0.8 M so rounded; of the R = M -
// masked left, replaced = R/2 so rounded; kept = the rest.
#ifndef MPP_H
#define MPP_H

#include <stdint.h>
#include "rng.h"

#define MPP_BITS          3               // bits of each channel's mean intensity
#define MPP_LEVELS        (1 << MPP_BITS) // 8 levels per channel
#define MPP_CORRUPT_SHARE 0.5             // of the patches
#define MPP_MASK_SHARE    0.8             // of the corrupted: the [mask] embedding
#define MPP_REPLACE_SHARE 0.1             // of the corrupted: another patch's embedding
#define MPP_MAX_PATCHES   4096            // N a pattern may have (a 64x64 grid)

// What happens to a patch (fate (B,N) holds one per patch).
enum {
    MPP_CLEAN = 0,    // not chosen: embedded as it is, not predicted
    MPP_MASKED = 1,   // embedding replaced by the mask token; predicted
    MPP_REPLACED = 2, // embedding replaced by another patch's of the image; predicted
    MPP_KEPT = 3,     // embedding left as it is; predicted
};

// The pretext classes for Cin channels: 8^Cin (8 for gray images, 512 for RGB).
int mpp_classes(int Cin);

// floor(x + u), u uniform in [0, 1) from rng: x on average.
int mpp_round(double x, Rng *rng);

// A corruption pattern for B images of N >= 2 patches: fate (B,N) as above,
// source (B,N) the patch whose embedding goes in its place (another patch of
// the same image for MPP_REPLACED, else itself).
void mpp_corruption_draw(uint8_t *fate, int *source, int B, int N, Rng *rng);

// The targets of images (B,Cin,S,S), normalised as input = (pixel/255 -
// mean)/std: each patch's raw pixels recovered (rounded to whole 0..255),
// their mean per channel quantised to 3 bits, floor(mean * 8) capped at 7,
// in integers; channel c's level is digit c (c = 0 the most significant) of
// a base-8 number. targets (B,N), N = (S/P)^2.
void mpp_targets(int *targets, const float *images, int B, int Cin, int S, int P, float mean,
                 float std);

// The corruption (a layer; the convention: linear.h): out (B,N,C) from the
// patch embeddings emb (B,N,C) and mask_token (C):
//     out[b,n] = mask_token                 fate MPP_MASKED
//              = emb[b, source[b,n]]        otherwise (itself unless MPP_REPLACED)
void mpp_corrupt_forward(float *out, const float *emb, const float *mask_token, const uint8_t *fate,
                         const int *source, int B, int N, int C);
// demb (B,N,C) += and dmask_token (C) += from dout (B,N,C).
void mpp_corrupt_backward(float *demb, float *dmask_token, const float *dout, const uint8_t *fate,
                          const int *source, int B, int N, int C);

// The corrupted patches' output tokens, in order (image, then patch): rows
// (R,C) from out (B,T,C), T = N+1 (token 0 is the class token); their targets
// into row_targets (R) from targets (B,N). Returns R.
int mpp_gather_forward(float *rows, int *row_targets, const float *out, const int *targets,
                       const uint8_t *fate, int B, int N, int C);
// dout (B,T,C) += drows (R,C) at the rows' tokens; the other tokens get nothing.
void mpp_gather_backward(float *dout, const float *drows, const uint8_t *fate, int B, int N, int C);

#endif
