// model.h — what the trainer, evaluation and checkpoints need from a model,
// whatever model it is: the ViT of chapter 06, the hybrid and the CNN of
// chapter 07. A model is a struct of its own (Vit, Hybrid, Cnn) whose first member is
// a Model: a table of its functions (ModelKind) and a view of the parts every
// model has (parameters, gradients, logits, the random state of dropout).
//
// A struct of function pointers, rather than a tagged union and a switch,
// because chapter 06's trainer must serve models that later chapters add:
// a switch in train.c would have to name them before they exist.
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>
#include "error.h"
#include "rng.h"
#include "safetensors.h"
#include "tensors.h"

// region: model
typedef struct Model Model;

typedef struct {
    const char *name; // "vit": the "model" entry of its checkpoints' metadata
    // Forward on images (B,Cin,H,W), B <= m->B, normalised: logits into
    // m->logits (B,K). With labels (B), returns the mean cross-entropy (label
    // smoothing s) and keeps what backward needs; training turns dropout on.
    float (*forward)(Model *m, const float *images, const int *labels, int B, float smoothing,
                     bool training);
    // The gradients of the last forward's loss into m->grads (zeroed first).
    void (*backward)(Model *m, const int *labels, int B, float smoothing);
    // Optional (NULL: each image right when its logits' largest is its label):
    // how many of the last forward's B images it got right, counting a share
    // of an image when it makes several predictions per image (chapter 12's
    // masked patches); what the trainer's accuracy sums.
    double (*correct)(Model *m, const int *labels, int B);
    // Its shape, as strings under its constructor's names, into meta.
    void (*describe)(const Model *m, SafetensorsMeta *meta);
    // Whether meta (a checkpoint's, read from path) describes m's shape; err says how not.
    bool (*fits)(const Model *m, const SafetensorsMeta *meta, const char *path, Error *err);
    // A new model of the shape meta describes, for batches of up to B images,
    // weights zero; or NULL with err naming path and the problem.
    Model *(*open)(const SafetensorsMeta *meta, const char *path, int B, float dropout,
                   Error *err);
    // Frees a model that open made.
    void (*close)(Model *m);
} ModelKind;

struct Model {
    const ModelKind *kind;
    int image_size;   // H = W of the images it takes
    int in_channels;  // Cin
    int num_classes;  // K
    int B;            // the largest batch forward takes
    Tensors *params;  // every parameter, one allocation, under PyTorch's names
    Tensors *grads;   // their gradients: the same list, the same layout
    float *logits;    // (B,K) of the last forward
    Rng *dropout_rng; // the random state training consumes (saved for resuming)
};
// endregion: model

// The kind's functions, called through the model.
float model_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                    bool training);
void model_backward(Model *m, const int *labels, int B, float smoothing);

// Whether m takes count images of rows x cols with channels channels: one
// line naming what (a file, a data set) and the problem.
bool model_takes(const Model *m, int rows, int cols, int channels, const char *what, Error *err);

#endif
