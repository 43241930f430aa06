// ch05.h — everything chapter 05 may use: chapter 04, plus LayerNorm, GELU,
// the model configuration and its costs, and the encoder.
#ifndef CH05_H
#define CH05_H

#include "ch04.h"
#include "encoder.h"
#include "gelu.h"
#include "layernorm.h"
#include "vit_config.h"

#endif
