// checkpoint.h — a trained model in one safetensors file that PyTorch opens:
// its parameters under PyTorch's names, and in the metadata what model it is
// ("model"), its shape under its constructor's names (from the model's table
// of ConfigFields) and the input normalisation (image_mean, image_std). Works
// for any Model; the optimizer's state for resuming is train.h's.
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stdbool.h>
#include "error.h"
#include "model.h"
#include "safetensors.h"
#include "vit_config.h"

// Where the chapters keep the models they train, and chapter 06's ViT.
#define MODELS_DIR     "build/models"
#define VIT_MODEL_PATH MODELS_DIR "/vit.safetensors"

// The model alone, with its configuration and normalisation: path, atomically.
bool checkpoint_save(const char *path, const Model *m, float mean, float std, Error *err);
// The weights of path into m, whose shape the file's metadata must describe;
// every weight must be finite (else m may be left partly filled).
bool checkpoint_load(const char *path, Model *m, Error *err);
// A new model of the kind and shape path describes (its "model" entry names one
// of kinds; a file without one, such as torchvision's, is kinds[0]), for
// batches of up to B images, with path's weights (finite) and normalisation. Close it
// with (*out)->kind->close.
bool checkpoint_open(const char *path, const ModelKind *const *kinds, int kind_count, int B,
                     float dropout, Model **out, float *mean, float *std, Error *err);
// The same from an Input (files.h): a file open, or bytes in memory.
bool checkpoint_open_from(Input *in, const ModelKind *const *kinds, int kind_count, int B,
                          float dropout, Model **out, float *mean, float *std, Error *err);
// Whether a model of params parameters (a "ViT", a "hybrid", ...: what)
// takes exactly the bytes of tensor data meta's file holds (meta->data_bytes;
// 0, meta made here: true): metadata that does not describe its own file is
// refused before a model is built.
bool checkpoint_fits_data(const SafetensorsMeta *meta, const char *path, const char *what,
                          long long params, Error *err);
// The input normalisation of path: input = (pixel/255 - mean) / std, mean
// within +-1e6 and std at least CHECKPOINT_MIN_STD, so the inputs stay finite.
#define CHECKPOINT_MIN_STD 1e-6f
bool checkpoint_normalization(const char *path, float *mean, float *std, Error *err);

// The per-channel normalisation of a checkpoint for images of Cin channels:
// input[c] = (pixel/255 - mean[c]) / std[c], mean and std (Cin) each. The
// metadata's "image_mean" and "image_std" hold one number, used for every
// channel (every checkpoint of chapters 06-10), or Cin numbers separated by
// commas ("0.485,0.456,0.406": torchvision's ImageNet values); ranges as above.
bool checkpoint_channel_normalization(const SafetensorsMeta *meta, const char *path, int Cin,
                                      float *mean, float *std, Error *err);

// A program's model that must exist: when path does not, prints one line
// naming it and the command that makes it (`make_command`), and exits 1.
void checkpoint_require(const char *program, const char *path, const char *make_command);

// ---- configurations in metadata, through a table of fields ----------------------

// Every field of cfg (described by fields) as a decimal string under its name
// after prefix ("" for none; "stem." for a part of a model with fields of its own).
void config_to_meta(SafetensorsMeta *meta, const char *prefix, const void *cfg,
                    const ConfigField *fields, int count);
// Every field of cfg from meta (under prefix + its name): present, a whole
// number, in its range; err names path.
bool config_from_meta(void *cfg, const char *prefix, const ConfigField *fields, int count,
                      const SafetensorsMeta *meta, const char *path, Error *err);
// A metadata value that must be a whole decimal number in [lo, hi].
bool meta_long(const SafetensorsMeta *meta, const char *key, long long lo, long long hi,
               long long *out, const char *path, Error *err);

#endif
