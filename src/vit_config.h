// vit_config.h — the shape of a ViT, named as torchvision's VisionTransformer
// constructor names it, and what that shape costs: parameters and FLOPs.
#ifndef VIT_CONFIG_H
#define VIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

typedef struct {
    int image_size;  // H = W
    int patch_size;  // P
    int in_channels; // Cin
    int hidden_dim;  // C
    int mlp_dim;     // hidden width of the MLP, usually 4C
    int num_layers;  // L
    int num_heads;   // NH
    int num_classes; // K (0: no head)
} VitConfig;

// One int field of a configuration struct: its name (torchvision's
// constructor argument, also its key in a checkpoint's metadata), where it
// lies in the struct, and the values it may take. A model's table of these is
// the one list of its configuration: the check, the metadata writer and the
// metadata reader all walk it.
typedef struct {
    const char *name; // "hidden_dim"
    const char *what; // "width", for messages
    size_t offset;    // offsetof(the struct, the field)
    int min, max;     // accepted range, inclusive
} ConfigField;

// The fields of VitConfig.
extern const ConfigField vit_config_fields[];
extern const int vit_config_field_count;

// The field's value in cfg (the struct the table describes).
int config_get(const void *cfg, const ConfigField *f);
void config_set(void *cfg, const ConfigField *f, int value);
// Whether every field of cfg lies in its range (err names the first that does not).
bool config_in_range(const void *cfg, const ConfigField *fields, int count, Error *err);

typedef struct {
    const char *name; // "ViT-B/16"
    VitConfig config;
} VitVariant;

// The book's small ViT for Fashion-MNIST, chapters 05 and 06's default: 28x28
// gray images, patch 7, width 64, MLP 128, 6 layers, 4 heads, 10 classes.
extern const VitConfig vit_small;

// Ti, S, B, L, H at /16 and /32; 224x224 RGB, 1000 classes.
extern const VitVariant vit_variants[];
extern const int vit_variant_count;

// Checks every field is in its range and the sizes fit together (C % NH == 0,
// P divides the image).
bool vit_config_check(const VitConfig *cfg, Error *err);
// Whether a ViT of shape cfg (checked) fits in memory for batches of B images:
// every tensor it allocates, and every product of sizes the layers index with
// an int (B*T*MLP, B*NH*T*T, ...), counted in 64 bits before anything is
// allocated, must stay within VIT_MAX_ELEMENTS. err names the largest and why.
#define VIT_MAX_ELEMENTS 2147483647LL // INT_MAX: what an int index reaches
bool vit_sizes_check(const VitConfig *cfg, int B, Error *err);
// For a configuration set by flags (--width, --heads, --patch, ...) and the
// batch B: when the sizes do not fit, prints "program: --heads N: why" (or
// --patch, or --batch when B images would overflow a size) and exits 2.
void vit_config_check_flags(const VitConfig *cfg, int B, const char *program);
int vit_tokens(const VitConfig *cfg); // T = (image/P)^2 + 1

// Parameters of the whole model, head included (torchvision's count: a
// single Linear head, no pre-logits layer).
long long vit_param_count(const VitConfig *cfg);
// Floating-point operations of one forward pass on one image, counting a
// multiply-add as 2: the matrix products, attention's two products, and the
// patch embedding; normalisations and activations are left out (they are a
// fraction of a percent).
double vit_forward_flops(const VitConfig *cfg);
// The same for the logits alone, as encoder_blocks_class computes them: the
// last block's attention, out_proj and MLP for the class token only.
double vit_logits_flops(const VitConfig *cfg);

#endif
