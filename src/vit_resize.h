// vit_resize.h — a trained ViT carried to another image size, as the paper
// fine-tunes at a higher resolution than it pre-trains: the same patch size,
// so a longer sequence (T = (image/P)² + 1); every weight copied, and the
// position embeddings, which no longer fit, interpolated in 2D
// (pos_interpolate.h: torchvision's interpolate_embeddings, bicubic with
// aligned corners). Loading torchvision's state dict after
// interpolate_embeddings into a VisionTransformer of the new image_size gives
// the same model.
#ifndef VIT_RESIZE_H
#define VIT_RESIZE_H

#include <stdbool.h>
#include "error.h"
#include "vit.h"

// Builds out (as vit_build: batches of up to B images, dropout while
// training) for images image_size × image_size, with src's configuration and
// head otherwise, src's weights, and src's position embeddings resampled
// from its grid to the new one. When image_size is src's own, out is a copy.
// Returns false, out untouched, when image_size is not a multiple of the
// patch size or a model that size would not fit (err says which).
bool vit_build_resized(Vit *out, const Vit *src, int image_size, int B, float dropout, Error *err);

#endif
