// mpp_vit.h — a ViT for self-supervised pre-training by masked patch
// prediction (mpp.h): the encoder of chapter 05 under torchvision's names, a
// learnable [mask] embedding "mask_token" (C), and the pretext head
// "mpp_head.weight" (K,C), "mpp_head.bias" (K), K = 8^Cin mean-intensity
// classes, on the output token of every corrupted patch. An MppVit is a Model
// (model.h): its forward ignores the labels, draws a corruption (from the
// model's random state, which the trainer saves for resuming) and computes
// the targets from the images themselves; the trainer's accuracy is the
// share of corrupted patches whose class it predicts. Batches are shared
// among threads as the ViT's are (slices.h).
#ifndef MPP_VIT_H
#define MPP_VIT_H

#include <stdint.h>
#include "encoder.h"
#include "fashion_mnist.h"
#include "model.h"
#include "rng.h"
#include "vit.h"

typedef struct {
    Tensors acts, dacts; // the model's lists again, pointing into the slice
    EncoderActivations a, da;
    float *corrupted, *dcorrupted;
    Tensors grads; // slices 1..: this slice's parameter gradients
    EncoderWeights dw;
    float *dmask_token, *dhead_w, *dhead_b;
} MppSlice;

typedef struct {
    Model model;                 // first: what the trainer sees
    VitConfig cfg;               // num_classes = K = mpp_classes(in_channels)
    int B, N;                    // largest batch; patches per image
    float image_mean, image_std; // input = (pixel/255 - mean)/std: for the targets
    Tensors params, grads;       // encoder, mask_token, mpp_head; one allocation each
    Tensors acts, dacts;         // per image: the encoder's and the corrupted embeddings
    Tensors head_acts;           // the pretext head's, over the corrupted patches of a batch
    EncoderWeights w, dw;
    float *mask_token, *dmask_token;            // (C)
    float *head_w, *head_b, *dhead_w, *dhead_b; // (K,C), (K)
    EncoderActivations a, da;
    float *corrupted, *dcorrupted; // (B,N,C) the patch embeddings after corruption
    float *rows, *drows;           // (B*N,C) the corrupted patches' output tokens (R of them)
    float *logits, *dlogits;       // (B*N,K) the head's, R rows
    float *probs;                  // (B*N,K) their softmax
    uint8_t *fate;                 // (B,N) the last corruption (mpp.h)
    int *source;                   // (B,N)
    int *targets;                  // (B,N) every patch's class
    int *row_targets;              // (B*N) the corrupted patches' classes, R of them
    int R;                         // corrupted patches in the last forward
    Rng rng;                       // draws the corruptions
    int slices;
    MppSlice *slice;
    float **slice_grads;
} MppVit;

extern const ModelKind mpp_vit_kind; // "vit_mpp"

// cfg's num_classes is ignored (set to the pretext classes); mean and std the
// normalisation of the images forward will be given.
void mpp_vit_build(MppVit *m, const VitConfig *cfg, float mean, float std, int B);
void mpp_vit_free(MppVit *m);
// The encoder as vit_init does it, the mask token as a position embedding
// (truncated normal, std 0.02), the head zero; seeds the corruptions' state.
void mpp_vit_init(MppVit *m, Rng *rng);

// Forward on images (B,Cin,H,W), normalised: a corruption drawn from rng (or,
// rng NULL, the one already in m->fate and m->source), the targets, the
// encoder, the head on the R corrupted patches; returns the mean cross-entropy
// over them.
float mpp_vit_forward(MppVit *m, const float *images, int B, Rng *rng);
// Gradients of that loss into m->grads (zeroed first).
void mpp_vit_backward(MppVit *m, int B);
// How many of the last forward's R corrupted patches got their class right;
// per_image (B), when not NULL, gets each image's share of its own.
int mpp_vit_correct(const MppVit *m, int B, double *per_image);

// The pretext accuracy and mean loss on the first count images of data
// (normalised as the model says), with corruptions drawn from seed: the same
// patterns every time.
double mpp_vit_evaluate(MppVit *m, const FashionMnist *data, int count, uint64_t seed,
                        double *loss);

// The encoder's weights of m into v (a ViT of the same shape, any head): every
// tensor of v's with a namesake in m is copied; v's head is left as it is.
// Returns how many tensors were copied.
int mpp_vit_to_vit(Vit *v, const MppVit *m);

MppVit *mpp_vit_of(Model *m);

#endif
