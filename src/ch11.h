// ch11.h — everything chapter 11 may use: chapter 10, plus a pretrained ViT
// opened from a converted checkpoint (torchvision's or the paper's weights)
// for inference, and torchvision's preprocessing of a photo for it.
#ifndef CH11_H
#define CH11_H

#include "ch10.h"
#include "preprocess.h"
#include "pretrained.h"

#endif
