// ch07.h — everything chapter 07 may use: chapter 06, plus the layers of a
// ResNet stem and of a CNN: the convolution through matrix products with its
// backward pass, weight standardisation (StdConv), GroupNorm, ReLU, max
// pooling and global average pooling; and the ResNet built from them (the
// hybrid's stem and the CNN's body).
#ifndef CH07_H
#define CH07_H

#include "ch06.h"
#include "cnn.h"
#include "conv2d_gemm.h"
#include "global_avgpool.h"
#include "groupnorm.h"
#include "hybrid.h"
#include "maxpool.h"
#include "relu.h"
#include "resnet.h"
#include "weight_standardize.h"

#endif
