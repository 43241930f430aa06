// ch02.h — everything chapter 02 may use: chapter 01, plus named tensors in
// one allocation, the matrix product, the linear layer, convolution, and the
// embedding of patches into tokens; and mosaics of small maps for the plots.
#ifndef CH02_H
#define CH02_H

#include "ch01.h"
#include "conv2d.h"
#include "embed.h"
#include "linear.h"
#include "matmul.h"
#include "mosaic.h"
#include "tensors.h"

#endif
