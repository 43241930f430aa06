// ch07.h — everything chapter 07 may use: chapter 06, plus the layers of a
// ResNet stem and of a CNN: the convolution through matrix products with its
// backward pass, weight standardisation (StdConv) and GroupNorm.
#ifndef CH07_H
#define CH07_H

#include "ch06.h"
#include "conv2d_gemm.h"
#include "groupnorm.h"
#include "weight_standardize.h"

#endif
