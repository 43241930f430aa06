// vit_config.c — the ViT model variants, the checks on a configuration, and
// its costs: the parameter count (torchvision's) and the forward FLOPs.
#include "vit_config.h"

#include <limits.h>
#include "cli.h"
#include "patch.h"

// clang-format off
//                             image  P Cin   C  MLP  L  NH   K
const VitConfig vit_small = {   28,   7,  1, 64, 128, 6,  4, 10};

// region: variants
// Dosovitskiy et al. 2021, table 1 (Ti and S from DeiT, Touvron et al. 2021),
// each at patch size 16 and 32, for 224x224 RGB images and 1000 classes.
const VitVariant vit_variants[] = {
    //           image   P Cin     C   MLP   L  NH     K
    {"ViT-Ti/16", {224, 16,  3,  192,  768, 12,  3, 1000}},
    {"ViT-Ti/32", {224, 32,  3,  192,  768, 12,  3, 1000}},
    {"ViT-S/16",  {224, 16,  3,  384, 1536, 12,  6, 1000}},
    {"ViT-S/32",  {224, 32,  3,  384, 1536, 12,  6, 1000}},
    {"ViT-B/16",  {224, 16,  3,  768, 3072, 12, 12, 1000}},
    {"ViT-B/32",  {224, 32,  3,  768, 3072, 12, 12, 1000}},
    {"ViT-L/16",  {224, 16,  3, 1024, 4096, 24, 16, 1000}},
    {"ViT-L/32",  {224, 32,  3, 1024, 4096, 24, 16, 1000}},
    {"ViT-H/16",  {224, 16,  3, 1280, 5120, 32, 16, 1000}},
    {"ViT-H/32",  {224, 32,  3, 1280, 5120, 32, 16, 1000}},
};
const int vit_variant_count = sizeof vit_variants / sizeof vit_variants[0];
// endregion: variants
// clang-format on

// clang-format off
// region: config-fields
const ConfigField vit_config_fields[] = {
    // name           what               where                               min     max
    {"image_size",  "image size",      offsetof(VitConfig, image_size),  1,   1024},
    {"patch_size",  "patch size",      offsetof(VitConfig, patch_size),  1,   1024},
    {"in_channels", "input channels",  offsetof(VitConfig, in_channels), 1,   4096},
    {"hidden_dim",  "width",           offsetof(VitConfig, hidden_dim),  1,   8192},
    {"mlp_dim",     "MLP width",       offsetof(VitConfig, mlp_dim),     1,  32768},
    {"num_layers",  "number of layers", offsetof(VitConfig, num_layers), 1,    128},
    {"num_heads",   "number of heads", offsetof(VitConfig, num_heads),   1,    256},
    {"num_classes", "number of classes (0: no head)", offsetof(VitConfig, num_classes), 0, 100000},
};
const int vit_config_field_count = sizeof vit_config_fields / sizeof vit_config_fields[0];
// endregion: config-fields
// clang-format on

int config_get(const void *cfg, const ConfigField *f) {
    return *(const int *)((const char *)cfg + f->offset);
}

void config_set(void *cfg, const ConfigField *f, int value) {
    *(int *)((char *)cfg + f->offset) = value;
}

bool config_in_range(const void *cfg, const ConfigField *fields, int count, Error *err) {
    for (int i = 0; i < count; i++) {
        int value = config_get(cfg, &fields[i]);
        if (value < fields[i].min || value > fields[i].max)
            return error_set(err, "%s must be in %d..%d, got %d", fields[i].what, fields[i].min,
                             fields[i].max, value);
    }
    return true;
}

bool vit_config_check(const VitConfig *cfg, Error *err) {
    if (!config_in_range(cfg, vit_config_fields, vit_config_field_count, err)) return false;
    if (cfg->hidden_dim % cfg->num_heads != 0)
        return error_set(err, "width %d is not divisible by %d heads", cfg->hidden_dim,
                         cfg->num_heads);
    return patch_check(cfg->image_size, cfg->image_size, cfg->patch_size, err);
}

// a * b, or LLONG_MAX when that overflows (both non-negative).
static long long times(long long a, long long b) {
    return b != 0 && a > LLONG_MAX / b ? LLONG_MAX : a * b;
}

// The sizes of a ViT that grow with its shape and the batch: the largest
// tensor of each kind (the others are smaller or the same).
bool vit_sizes_check(const VitConfig *cfg, int B, Error *err) {
    long long C = cfg->hidden_dim, MLP = cfg->mlp_dim, NH = cfg->num_heads, K = cfg->num_classes;
    long long P = cfg->patch_size, Cin = cfg->in_channels, side = cfg->image_size / P;
    long long N = side * side, T = N + 1, D = times(Cin, P * P);
    const struct {
        const char *shape;
        long long count;
    } sizes[] = {
        {"conv_proj.weight (C,Cin,P,P)", times(C, D)},
        {"an MLP weight (MLP,C)", times(MLP, C)},
        {"in_proj_weight (3C,C)", times(3 * C, C)},
        {"heads.head.weight (K,C)", times(K, C)},
        {"the patches (B,N,Cin*P*P)", times(times(B, N), D)},
        {"the tokens' dropout mask (B,T+1,C)", times(times(B, T + 1), C)},
        {"the queries, keys and values (B,T,3C)", times(times(B, T), 3 * C)},
        {"the MLP's hidden activations (B,T,MLP)", times(times(B, T), MLP)},
        {"the attention maps (B,NH,T,T)", times(times(B, NH), times(T, T))},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].count > VIT_MAX_ELEMENTS)
            return error_set(err, "%s would hold %lld elements, more than the %lld an int indexes",
                             sizes[i].shape, sizes[i].count, VIT_MAX_ELEMENTS);
    return true;
}

void vit_config_check_flags(const VitConfig *cfg, int B, const char *program) {
    Error err, why;
    if (!vit_config_check(cfg, &err)) {
        bool heads = cfg->hidden_dim % cfg->num_heads != 0; // else the patch, for the flags' ranges
        cli_check_or_exit(false, program, heads ? "heads" : "patch",
                          heads ? cfg->num_heads : cfg->patch_size, &err);
    }
    if (vit_sizes_check(cfg, B, &why)) return;
    error_set(&err, "with --patch %d, --width %d, --mlp %d and --heads %d, %s", cfg->patch_size,
              cfg->hidden_dim, cfg->mlp_dim, cfg->num_heads, why.message);
    cli_check_or_exit(false, program, "batch", B, &err);
}

int vit_tokens(const VitConfig *cfg) {
    int side = cfg->image_size / cfg->patch_size;
    return side * side + 1;
}

// region: param-count
long long vit_param_count(const VitConfig *cfg) {
    long long C = cfg->hidden_dim, MLP = cfg->mlp_dim, K = cfg->num_classes;
    long long P = cfg->patch_size, Cin = cfg->in_channels, T = vit_tokens(cfg);
    long long embedding = C * Cin * P * P + C // conv_proj weight (C,Cin,P,P) and bias
                          + C                 // class_token
                          + T * C;            // encoder.pos_embedding (T,C)
    long long layer = 2 * 2 * C               // ln_1, ln_2: weight and bias
                      + 3 * C * C + 3 * C     // self_attention.in_proj (3C,C), (3C)
                      + C * C + C             // self_attention.out_proj (C,C), (C)
                      + MLP * C + MLP         // mlp.0 (MLP,C), (MLP)
                      + C * MLP + C;          // mlp.3 (C,MLP), (C)
    long long head = K * C + K;               // heads.head (K,C), (K)
    return embedding + cfg->num_layers * layer + 2 * C + head; // 2C: encoder.ln
}
// endregion: param-count

// region: forward-flops
// One block with Q query tokens among T: every token's q, k and v, the rest for
// the Q queries (Q = T: the whole block; Q = 1: the class token's).
static double block_flops(double Q, double T, double C, double MLP) {
    return 2 * T * C * 3 * C      // in_proj: q, k, v
           + 2 * Q * T * C        // q k^T, all heads together
           + 2 * Q * T * C        // att v
           + 2 * Q * C * C        // out_proj
           + 2 * Q * C * MLP * 2; // mlp.0 and mlp.3
}

// The patch embedding, the first blocks on every token, the last one with Q queries, the head.
static double forward_flops(const VitConfig *cfg, double Q) {
    double C = cfg->hidden_dim, MLP = cfg->mlp_dim, K = cfg->num_classes;
    double P = cfg->patch_size, Cin = cfg->in_channels, T = vit_tokens(cfg), N = T - 1;
    double embedding = 2 * N * (Cin * P * P) * C; // patches (N, Cin*P*P) x conv_proj^T
    double head = 2 * C * K;                      // the class token only
    return embedding + (cfg->num_layers - 1) * block_flops(T, T, C, MLP) +
           block_flops(Q, T, C, MLP) + head;
}

double vit_forward_flops(const VitConfig *cfg) {
    return forward_flops(cfg, vit_tokens(cfg));
}

double vit_logits_flops(const VitConfig *cfg) {
    return forward_flops(cfg, 1);
}
// endregion: forward-flops
