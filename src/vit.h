// vit.h — the whole classifier: the encoder of chapter 05 and the head, with
// everything training needs allocated once: parameters, their gradients (the
// same layout), activations and their gradients. Parameters are named as in
// torchvision's VisionTransformer, so the list doubles as the checkpoint's.
// A Vit is a Model (model.h): the trainer, evaluation and checkpoints see it
// through its first member.
#ifndef VIT_H
#define VIT_H

#include "encoder.h"
#include "head.h"
#include "model.h"
#include "rng.h"
#include "safetensors.h"

// One thread's share of a batch. vit_forward and vit_backward cut the batch into
// one slice of images per thread, and each thread runs the whole model on its
// slice: views of the model's activations and their gradients on those images,
// and its own parameter gradients, added into the model's at the end in slice
// order (slice 0 adds straight into the model's).
typedef struct {
    Tensors acts, dacts; // the model's two lists again, pointing into the slice
    EncoderActivations a, da;
    HeadActivations ha, dha;
    float *probs, *dropout_mask; // in the lists to keep them alike; not used
    Tensors grads;               // slices 1..: this slice's parameter gradients
    EncoderWeights dw;
    HeadWeights dhw;
} VitSlice;

typedef struct {
    Model model; // first: what the trainer sees; its pointers point at the fields below
    VitConfig cfg;
    HeadOptions head;
    float dropout; // on the embedded tokens and before the head, while training; 0 = none
    int B;         // the largest batch the activations hold
    bool trains;   // vit_build: gradients allocated; vit_build_inference: none (empty lists)
    // inference with class-token pooling: the last block for the class tokens alone
    // (encoder_blocks_class); false unless set
    bool logits_only;
    Tensors params; // every parameter, one allocation (also the optimizer's view)
    Tensors grads;  // the same list, "d" buffers
    Tensors acts;   // every activation for B images
    Tensors dacts;  // their gradients
    EncoderWeights w, dw;
    HeadWeights hw, dhw;
    EncoderActivations a, da;
    HeadActivations ha, dha;
    float *probs;        // (B,K) softmax of the logits
    float *dropout_mask; // (B,T,C) tokens mask, then (B,C) head mask: 0 or 1/(1-p)
    Rng dropout_rng;     // drives the masks; seeded by vit_init
    int slices;          // threads a batch may be shared among: omp_get_max_threads() at build
    VitSlice *slice;     // (slices)
    float **slice_grads; // (slices) each slice's own gradients' memory (slice 0: NULL)
} Vit;

// The ViT as a Model: what its checkpoints' "model" entry names.
extern const ModelKind vit_kind;

void vit_build(Vit *m, const VitConfig *cfg, const HeadOptions *head, float dropout, int B);
// The same model for inference only: parameters and activations, no gradients
// (m->grads and m->dacts stay empty lists, m->model.grads is NULL) and no
// dropout; vit_forward as with vit_build, vit_backward not allowed. ViT-B/16
// at batch 8 needs 1.8 GB this way (its activations 1.5), against 4.0 GB with
// everything vit_build adds for training.
void vit_build_inference(Vit *m, const VitConfig *cfg, const HeadOptions *head, int B);
void vit_free(Vit *m);
// The paper's initialisation (encoder_init's recipe) with a zero head.
void vit_init(Vit *m, Rng *rng);

// Forward on images (B,Cin,H,W), B <= m->B. With labels, returns the mean
// cross-entropy (label smoothing s) and keeps probs for the backward pass;
// training turns dropout on. Logits are in m->ha.logits (B,K).
float vit_forward(Vit *m, const float *images, const int *labels, int B, float smoothing,
                  bool training);
// Gradients of that loss into m->grads (zeroed first). labels (B) as given to
// vit_forward; the images are not needed again (the activations hold the patches).
void vit_backward(Vit *m, const int *labels, int B, float smoothing);

// torchvision's constructor arguments (cfg's fields, "representation_size" with
// a pre-logits layer) and "pool" (cls or mean) into meta: what vit_read_config reads.
void vit_describe(SafetensorsMeta *meta, const VitConfig *cfg, const HeadOptions *head);
// The shape and head a checkpoint's metadata describes (read from path):
// VitConfig's fields, "pool" (cls when absent, as torchvision) and
// "representation_size" (absent: no pre-logits layer; else it must be C).
bool vit_read_config(const SafetensorsMeta *meta, const char *path, VitConfig *cfg,
                     HeadOptions *head, Error *err);
// Whether the parameters of cfg and head take exactly the bytes of tensor data
// that meta's file holds (meta->data_bytes; 0, meta made here: true): metadata
// that does not describe its own file is refused before a model is built.
bool vit_fits_data(const SafetensorsMeta *meta, const char *path, const VitConfig *cfg,
                   const HeadOptions *head, Error *err);
// The parameters of a ViT of cfg with head: vit_param_count, plus the
// pre-logits layer (C*C + C) when head has one.
long long vit_model_param_count(const VitConfig *cfg, const HeadOptions *head);
// The GELU form a checkpoint's metadata "gelu" names: "erf" or absent (torchvision,
// the project's own models) is GELU_ERF, "tanh" (the paper's JAX checkpoints) GELU_TANH.
bool vit_read_gelu(const SafetensorsMeta *meta, const char *path, GeluForm *form, Error *err);
// Every block's MLP to that form (vit_build makes GELU_ERF); and the form m uses.
// A Vit's checkpoint records it ("gelu": "tanh"; nothing for erf).
void vit_set_gelu(Vit *m, GeluForm form);
GeluForm vit_gelu(const Vit *m);
// The Vit whose Model m is.
Vit *vit_of(Model *m);

#endif
