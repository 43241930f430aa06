// ch03.h — everything chapter 03 may use: chapter 02, plus softmax and
// scaled dot-product attention for one head, and row standardization.
#ifndef CH03_H
#define CH03_H

#include "attention.h"
#include "ch02.h"
#include "standardize.h"

#endif
