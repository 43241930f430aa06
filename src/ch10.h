// ch10.h — everything chapter 10 may use: chapter 09, plus position
// embeddings interpolated to another grid, a ViT rebuilt at another image
// size with them, bilinear resampling to enlarge the images, SGD with
// momentum to fine-tune, and the few-shot linear probe (closed-form
// regularised least squares through LAPACK).
#ifndef CH10_H
#define CH10_H

#include "ch09.h"
#include "bilinear.h"
#include "linear_probe.h"
#include "pos_interpolate.h"
#include "sgd.h"
#include "vit_resize.h"

#endif
