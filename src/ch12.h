// ch12.h — everything chapter 12 may use: chapter 10 (chapter 11 adds its own
// in between), plus masked patch prediction: the corruption of patch
// embeddings, the mean-intensity targets and the pretext head (mpp.h), and a
// ViT that pre-trains on it without labels (mpp_vit.h).
#ifndef CH12_H
#define CH12_H

#include "ch10.h"
#include "mpp.h"
#include "mpp_vit.h"

#endif
