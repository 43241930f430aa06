// pretrained.h — a pretrained ViT from a converted checkpoint
// (tools/convert_weights.py: torchvision's vit_b_16 or the paper's JAX
// files), built for inference only, with what the checkpoint says about its
// inputs and outputs: the per-channel normalisation, the preprocessing sizes,
// the GELU form and the class names. Or the same shapes on random weights,
// when no checkpoint is on the machine.
#ifndef PRETRAINED_H
#define PRETRAINED_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "vit.h"

// Where chapter 11 looks for the converted torchvision weights.
#define PRETRAINED_PATH "build/models/vit_b_16.safetensors"

typedef struct {
    Vit vit;              // vit_build_inference, logits_only: for classifying
    float *mean, *std;    // (Cin) input[c] = (pixel/255 - mean[c]) / std[c]
    int resize;           // the shorter side is resized to this, then
    int crop;             // the centre crop x crop (= the model's image_size) is kept
    char *names;          // the class names, one allocation, each ending in '\0'
    const char **classes; // (K) pointers into names
} Pretrained;

// Opens path for batches of up to B images: the metadata first (the ViT's
// shape and GELU form, "image_mean" and "image_std", one or Cin numbers,
// "resize_size" and "crop_size" (absent: 256 and 224 scaled to the image
// size; crop_size must be image_size), "class_names" one per line (absent:
// "class 0", ...; else exactly K)), then the weights straight into the
// parameters, every one finite. On failure returns false, err naming path
// and the problem, and p left empty.
bool pretrained_open(Pretrained *p, const char *path, int B, Error *err);

// The same shapes without a file: cfg (checked by the caller) on random
// weights from seed (vit_init's recipe, the head random too so the classes
// differ), ImageNet's normalisation, torchvision's sizes, names "class 0"...
void pretrained_random(Pretrained *p, const VitConfig *cfg, int B, uint64_t seed);

void pretrained_close(Pretrained *p);

#endif
