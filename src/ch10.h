// ch10.h — everything chapter 10 may use: chapter 09, plus position
// embeddings interpolated to another grid and a ViT rebuilt at another image
// size with them.
#ifndef CH10_H
#define CH10_H

#include "ch09.h"
#include "pos_interpolate.h"
#include "vit_resize.h"

#endif
