// patch.h — an image as a sequence of patches, the first step of a ViT. The
// image (Cin,H,W) is cut into N = (H/P)(W/P) squares of P x P pixels, taken row
// by row; each square becomes one row of Cin*P*P numbers, ordered channel,
// then patch row, then patch column: the order of torch's unfold and of a
// Conv2d weight (C, Cin, P, P) flattened, so a linear layer on these rows is
// exactly a convolution with kernel = stride = P.
#ifndef PATCH_H
#define PATCH_H

#include <stdbool.h>
#include "error.h"

// Whether P cuts an H x W image into whole patches; if not, err says why.
bool patch_check(int H, int W, int P, Error *err);
int patch_count(int H, int W, int P); // N = (H/P)(W/P); P must divide H and W

// images (B,Cin,H,W) -> patches (B,N,Cin*P*P)
void patchify(float *patches, const float *images, int B, int Cin, int H, int W, int P);
// patches (B,N,Cin*P*P) -> images (B,Cin,H,W), the exact inverse
void unpatchify(float *images, const float *patches, int B, int Cin, int H, int W, int P);

#endif
