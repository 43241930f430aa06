// train.h — training and evaluating any Model (model.h) on Fashion-MNIST:
// normalised mini-batches, a new random order of the images every epoch, one
// step = forward, backward, clipping, the scheduled learning rate and an AdamW
// update; accuracy and the confusion matrix on a test set; and, beside a
// checkpoint (checkpoint.h), the optimizer's state for resuming.
//
// Everything a step needs (batch, model activations, gradients, optimizer
// state) is allocated once by trainer_build; a step allocates nothing.
#ifndef TRAIN_H
#define TRAIN_H

#include <stdbool.h>
#include "adamw.h"
#include "error.h"
#include "fashion_mnist.h"
#include "model.h"
#include "progress.h"
#include "rng.h"

typedef struct {
    int epochs;            // passes over the training images
    int batch;             // B, images per step
    float lr;              // peak learning rate
    float weight_decay;    // AdamW's decoupled decay on weight matrices
    float warmup;          // epochs of linear warmup (may be fractional)
    float label_smoothing; // s in [0, 1)
    float clip;            // largest global gradient norm; 0 = no clipping
    int shift;             // training images moved at random by up to this many pixels (0: not)
    bool mirror;           // and mirrored left to right half of the time
    float image_mean;      // input = (pixel/255 - image_mean) / image_std
    float image_std;
    int seed; // the order of the images in each epoch
} TrainOptions;

typedef struct {
    Model *model;
    AdamW opt;
    TrainOptions o;
    const FashionMnist *data;
    int count;            // training images used: the first `count` of data
    long steps_per_epoch; // ceil(count / B); the last batch may be smaller
    long warmup_steps, total_steps;
    int epoch;           // epochs completed
    int *order;          // (count) this epoch's order of the images
    float *images;       // (B,1,H,W) the batch, normalised
    float *scratch;      // (H,W) for augmenting
    int *labels;         // (B)
    float lr, grad_norm; // of the last step (the norm before clipping)
} Trainer;

typedef struct {
    double loss;     // mean training loss over the epoch's images
    double accuracy; // training accuracy, measured during the epoch
    double seconds;
    double images_per_s;
} EpochResult;

// The threads (OpenMP's) a batch is shared among: n > 0. OpenBLAS itself
// stays single-threaded inside them (src/matmul.c).
void train_set_threads(int n);
// The threads a batch is shared among.
int train_threads(void);

// Images data[indices[b]] for b < B, normalised, into images (B,1,rows,cols);
// their labels into labels (B).
void batch_load(float *images, int *labels, const FashionMnist *data, const int *indices, int B,
                float mean, float std);

// The --augment and --shift rows of a training program's options, and the
// shift they ask for: --shift N if given, else 2 pixels with --augment, else
// none. --augment also mirrors (TrainOptions.mirror = augment).
CliOption train_augment_option(bool *augment);
CliOption train_shift_option(int *shift);
int train_shift_pixels(bool augment, int shift);

// Each image of images (B,1,H,W), in place: shifted by up to `shift` pixels
// in x and in y (the uncovered border set to background) and, with mirror,
// mirrored left to right with probability 1/2. scratch (H,W).
void batch_augment(float *images, float *scratch, int B, int H, int W, int shift, bool mirror,
                   float background, Rng *rng);

// A trainer for model on the first count images of train (count <= train->count;
// o->batch <= model->B). The model's weights are the caller's (its init, or a
// checkpoint). Refuses (err) images the model does not take.
bool trainer_build(Trainer *t, Model *model, const FashionMnist *train, int count,
                   const TrainOptions *o, Error *err);
void trainer_free(Trainer *t);
// One step on the B images and labels in t->images, t->labels; returns the loss.
float trainer_step(Trainer *t, int B);
// The next epoch (t->epoch, 0-based), in a fresh random order; progress (may
// be NULL) is advanced by each batch's images.
EpochResult trainer_epoch(Trainer *t, Progress *progress);

// Accuracy of model on the first count images of data (images it takes: see
// model_takes), in batches of model->B. Also fills, when not NULL, confusion
// (K,K) (row = true class, column = predicted) and logits (count,K).
double evaluate(Model *model, const FashionMnist *data, int count, float mean, float std,
                int *confusion, float *logits);

// Every test image's logits (count,K) as a CSV at path, atomically: one row per
// image, index,label,predicted,logit_0,...,logit_{K-1}; what
// tools/checkpoint_torch.py check --predictions compares PyTorch's with.
bool predictions_write(const char *path, const FashionMnist *test, const float *logits, int K,
                       Error *err);

// ---- resuming ------------------------------------------------------------------

// The optimizer's file beside a checkpoint: "run.safetensors" -> "run.opt.safetensors".
void trainer_state_path(char *out, size_t size, const char *checkpoint);
// The model at path (checkpoint_save) and the optimizer, the epoch and the
// random state beside it, with the CRC-32 of the weights saved.
bool trainer_save(const Trainer *t, const char *path, Error *err);
// Continues where trainer_save left off: model, optimizer, epoch, dropout state.
// Refuses a state file saved with other weights than path's (a save killed
// between the two files), and moments that are not finite (or a negative
// second moment), naming the file, the tensor and the element.
bool trainer_resume(Trainer *t, const char *path, Error *err);

#endif
