// ch09.h — everything chapter 09 may use: chapter 08, plus principal
// components through LAPACK, the mean attention distance of a head and
// attention rollout: what the trained ViT learned.
#ifndef CH09_H
#define CH09_H

#include "attention_distance.h"
#include "ch08.h"
#include "pca.h"
#include "rollout.h"

#endif
