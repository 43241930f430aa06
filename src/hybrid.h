// hybrid.h — the paper's hybrid: a ResNet stem computes a feature map, and
// every position of the map is one token ("patches of size 1x1"), embedded by
// the encoder's own patch embedding (a 1x1 convolution) and run through
// chapter 05's encoder and chapter 06's head. For 28x28 Fashion-MNIST the
// stem (resnet.h's resnet_hybrid_stem) gives a (64,4,4) map: the 16 tokens of
// chapter 06's 7x7 patches, plus the class token.
//
// Names: the stem's parameters are "stem.<resnet.h's names>", the encoder's
// and the head's torchvision's, for a VisionTransformer of image_size = the
// map's side, patch_size 1 and in_channels = the map's channels; so a checkpoint
// loads into tools/reference.py's Hybrid (a torchvision ViT with a
// `stem` in front) with strict=True. The metadata holds the encoder's
// VitConfig under torchvision's names and the stem's ResNetConfig under
// "stem.<field>".
//
// A Hybrid is a Model (model.h); like the Vit it shares a batch among threads
// (slices.h), each slice running the stem, the encoder and the head on its images.
#ifndef HYBRID_H
#define HYBRID_H

#include "encoder.h"
#include "head.h"
#include "model.h"
#include "resnet.h"

typedef struct {
    ResNetWeights stem;
    EncoderWeights encoder;
    HeadWeights head;
} HybridWeights;

// The activations of a batch and their gradients, each list one allocation
// (or, in a slice, views into the model's).
typedef struct {
    Tensors acts, dacts;
    ResNetActivations stem, dstem;
    EncoderActivations encoder, dencoder;
    HeadActivations head, dhead;
    float *probs;        // (B,K) softmax of the logits
    float *dropout_mask; // (B,T,C) on the tokens, then (B,C) before the head: 0 or 1/(1-p)
} HybridActivations;

typedef struct {
    HybridActivations x; // views of the model's, aimed at the slice's images
    Tensors grads;       // slices 1..: this slice's parameter gradients
    HybridWeights dw;    // slice 0: the model's gradients
    float *scratch;      // (resnet_scratch_floats) the stem's
} HybridSlice;

typedef struct {
    Model model;       // first: what the trainer sees
    ResNetConfig stem; // the images -> the feature map
    VitConfig cfg;     // the encoder's: the map's side and channels, patch 1
    HeadOptions head;
    float dropout;  // on the embedded tokens and before the head, while training; 0 = none
    int B;          // the largest batch the activations hold
    Tensors params; // every parameter, one allocation
    Tensors grads;  // the same list, "d" buffers
    HybridWeights w, dw;
    HybridActivations x;
    Rng dropout_rng;
    int slices;          // threads a batch may be shared among
    HybridSlice *slice;  // (slices)
    float **slice_grads; // (slices) each slice's own gradients (slice 0: NULL)
} Hybrid;

extern const ModelKind hybrid_kind;

// The encoder of a hybrid: the width, depth, heads, MLP and classes of vit, on
// the stem's feature map (image_size its side, patch 1, in_channels its channels).
VitConfig hybrid_encoder_config(const ResNetConfig *stem, const VitConfig *vit);
// Whether stem and encoder fit together as above (err says how not).
bool hybrid_config_check(const ResNetConfig *stem, const VitConfig *encoder, Error *err);

// Whether a hybrid of this stem and encoder (checked) fits in memory for
// batches of B images: resnet_sizes_check and vit_sizes_check (err says which).
bool hybrid_sizes_check(const ResNetConfig *stem, const VitConfig *encoder, int B, Error *err);

void hybrid_build(Hybrid *m, const ResNetConfig *stem, const VitConfig *encoder,
                  const HeadOptions *head, float dropout, int B);
void hybrid_free(Hybrid *m);
// The stem as resnet_init, the encoder and the head as vit_init.
void hybrid_init(Hybrid *m, Rng *rng);

// As vit_forward and vit_backward (vit.h), through the stem first.
float hybrid_forward(Hybrid *m, const float *images, const int *labels, int B, float smoothing,
                     bool training);
void hybrid_backward(Hybrid *m, const int *labels, int B, float smoothing);

long long hybrid_param_count(const ResNetConfig *stem, const VitConfig *encoder);
double hybrid_forward_flops(const ResNetConfig *stem, const VitConfig *encoder);

Hybrid *hybrid_of(Model *m);

#endif
