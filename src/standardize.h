// standardize.h — every row brought to mean 0 and variance 1. Chapters 03 and
// 04 use it on the tokens before attention, standing in for the LayerNorm that
// chapter 05 puts there (which adds a learned scale and shift).
#ifndef STANDARDIZE_H
#define STANDARDIZE_H

// x (R,C) in place; eps keeps a constant row finite: (x - mean) / sqrt(var + eps).
void standardize_rows(float *x, int R, int C, float eps);

#endif
