// ch08.h — everything chapter 08 may use: chapter 07, plus whole-pixel shifts
// of a map (and the sizes an equivariance error is made of) and the
// convolution with circular padding.
#ifndef CH08_H
#define CH08_H

#include "ch07.h"
#include "conv2d_circular.h"
#include "shift.h"

#endif
