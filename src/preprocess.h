// preprocess.h — a photo made into what an ImageNet model takes, as
// torchvision 0.14's preset for its weights does it on a PIL image
// (ViT_B_16_Weights.IMAGENET1K_V1.transforms(): ImageClassification):
//     1. resize so the shorter side is `resize` (256), the longer side
//        int(resize * long / short), with PIL's bilinear filter: a triangle
//        widened by the scale when shrinking (so it averages, "antialias"),
//        computed in 8 bits as PIL does, horizontal pass first, each pass
//        rounded to a byte;
//     2. the centre crop x crop (224), its corner at round((size - crop) / 2)
//        rounded half to even, as Python's round;
//     3. to floats: x = (pixel / 255 - mean[c]) / std[c], in float32, as
//        convert_image_dtype then normalize.
// Steps 1 and 2 give the same bytes as PIL and torchvision, step 3 the same
// floats (tests/test_11_preprocess.c).
#ifndef PREPROCESS_H
#define PREPROCESS_H

#include "image.h"

// PIL's Image.resize((width, height), Image.BILINEAR) on 8-bit pixels, any channels.
Image preprocess_resize(const Image *img, int width, int height);
// Step 1: the shorter side to `side` (the image itself, copied, when it is already).
Image preprocess_resize_shorter(const Image *img, int side);
// Step 2: the centre side x side square; img's sides must be at least side.
Image preprocess_center_crop(const Image *img, int side);
// Step 3: out (channels, height, width), mean and std (channels).
void preprocess_normalize(float *out, const Image *img, const float *mean, const float *std);
// All three: out (channels, crop, crop); *shown, when not NULL, gets the crop as
// pixels (the picture the model sees, for figures).
void preprocess_image(float *out, const Image *img, int resize, int crop, const float *mean,
                      const float *std, Image *shown);

#endif
