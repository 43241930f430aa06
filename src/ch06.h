// ch06.h — everything chapter 06 may use: chapter 05, plus the backward pass
// of every layer, the classification head, the loss, safetensors files, what
// any model shows the trainer (model.h) and its checkpoints, the whole ViT,
// the optimizer and schedule, progress, and the training loop.
#ifndef CH06_H
#define CH06_H

#include "adamw.h"
#include "ch05.h"
#include "checkpoint.h"
#include "dropout.h"
#include "head.h"
#include "loss.h"
#include "model.h"
#include "progress.h"
#include "safetensors.h"
#include "slices.h"
#include "train.h"
#include "vit.h"

#endif
