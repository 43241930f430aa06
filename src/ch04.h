// ch04.h — everything chapter 04 may use: chapter 03, plus multi-head attention.
#ifndef CH04_H
#define CH04_H

#include "ch03.h"
#include "mha.h"

#endif
