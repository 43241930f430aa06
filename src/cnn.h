// cnn.h — chapter 07's CNN, the ResNet carried on instead of handed to a
// transformer (BiT's recipe): a root and stages of bottleneck units
// (resnet.h's resnet_cnn_body), global average pooling of the last feature
// map, and a linear classifier. Its two inductive biases, locality (every
// output sees a small window) and weight sharing (the same window weights at
// every position), are what the ViT does without.
//
// Names: "body.<resnet.h's names>", "head.weight" (K,Cout) and "head.bias"
// (K): tools/reference.py's Cnn loads a checkpoint with strict=True.
// The metadata holds the body's ResNetConfig under "body.<field>" and
// "num_classes".
//
// A Cnn is a Model (model.h) and shares a batch among threads as the Vit does.
#ifndef CNN_H
#define CNN_H

#include "model.h"
#include "resnet.h"

typedef struct {
    ResNetWeights body;
    float *head_w; // (K,Cout) head.weight
    float *head_b; // (K) head.bias
} CnnWeights;

// The activations of a batch and their gradients (dacts lists the first four).
typedef struct {
    Tensors acts, dacts;
    ResNetActivations body, dbody;
    float *pooled, *dpooled; // (B,Cout) the mean of each channel's map (times the mask)
    float *logits, *dlogits; // (B,K)
    float *probs;            // (B,K) softmax of the logits
    float *dropout_mask;     // (B,Cout) before the head: 0 or 1/(1-p)
} CnnActivations;

typedef struct {
    CnnActivations x; // views of the model's, aimed at the slice's images
    Tensors grads;    // slices 1..: this slice's parameter gradients
    CnnWeights dw;    // slice 0: the model's gradients
    float *scratch;   // (resnet_scratch_floats)
} CnnSlice;

typedef struct {
    Model model; // first: what the trainer sees
    ResNetConfig body;
    int num_classes; // K
    float dropout;   // on the pooled features while training; 0 = none
    int B;
    Tensors params, grads;
    CnnWeights w, dw;
    CnnActivations x;
    bool dropped; // the last forward pass had dropout
    Rng dropout_rng;
    int slices;
    CnnSlice *slice;     // (slices)
    float **slice_grads; // (slices) each slice's own gradients (slice 0: NULL)
} Cnn;

extern const ModelKind cnn_kind;

// Whether a CNN of this body (checked) and K classes fits in memory for
// batches of B images (resnet_sizes_check, and the head).
bool cnn_sizes_check(const ResNetConfig *body, int num_classes, int B, Error *err);

void cnn_build(Cnn *m, const ResNetConfig *body, int num_classes, float dropout, int B);
void cnn_free(Cnn *m);
// The body as resnet_init; the classifier zero, as the ViT's (every logit 0).
void cnn_init(Cnn *m, Rng *rng);

// As vit_forward and vit_backward (vit.h).
float cnn_forward(Cnn *m, const float *images, const int *labels, int B, float smoothing,
                  bool training);
void cnn_backward(Cnn *m, const int *labels, int B, float smoothing);

long long cnn_param_count(const ResNetConfig *body, int num_classes);
double cnn_forward_flops(const ResNetConfig *body, int num_classes);

Cnn *cnn_of(Model *m);

#endif
