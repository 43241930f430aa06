// resnet.c — the ResNet of the paper's hybrid: its configuration, sizes and
// costs; its parameters and activations listed under PyTorch's names; the
// paper's initialisation; and the forward pass, root then units.
#include "resnet.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conv2d.h"
#include "conv2d_gemm.h"
#include "groupnorm.h"
#include "maxpool.h"
#include "relu.h"
#include "weight_standardize.h"

_Static_assert(sizeof(int) == sizeof(float), "the pool's argmax lives in a float tensor");

// clang-format off
//                                    S Cin  Cr  K  s   G  stages units      widths        strides
const ResNetConfig resnet_hybrid_stem = {28, 1, 16, 7, 2, 8, 1, {1},        {16},         {2}};
const ResNetConfig resnet_cnn_body    = {28, 1, 16, 7, 2, 8, 3, {2, 2, 2},  {16, 32, 64}, {1, 2, 2}};

#define STAGE_FIELDS(s)                                                                            \
    {"stage" #s "_units",  "units of stage " #s,  offsetof(ResNetConfig, units[s - 1]),  0,   16}, \
    {"stage" #s "_width",  "width of stage " #s,  offsetof(ResNetConfig, width[s - 1]),  0, 4096}, \
    {"stage" #s "_stride", "stride of stage " #s, offsetof(ResNetConfig, stride[s - 1]), 0,    4}
const ConfigField resnet_config_fields[] = {
    // name            what                      where                                  min   max
    {"image_size",  "image size",             offsetof(ResNetConfig, image_size),  1, 1024},
    {"in_channels", "input channels",         offsetof(ResNetConfig, in_channels), 1,   16},
    {"root_width",  "root width",             offsetof(ResNetConfig, root_width),  1, 4096},
    {"root_kernel", "root kernel size",       offsetof(ResNetConfig, root_kernel), 1,   15},
    {"root_stride", "root stride",            offsetof(ResNetConfig, root_stride), 1,    4},
    {"groups",      "GroupNorm groups",       offsetof(ResNetConfig, groups),      1, 1024},
    {"num_stages",  "number of stages",       offsetof(ResNetConfig, num_stages),  0, RESNET_MAX_STAGES},
    STAGE_FIELDS(1), STAGE_FIELDS(2), STAGE_FIELDS(3), STAGE_FIELDS(4),
};
#undef STAGE_FIELDS
const int resnet_config_field_count = sizeof resnet_config_fields / sizeof resnet_config_fields[0];
// clang-format on

// ---- the configuration: checks, sizes, costs ----------------------------------------

bool resnet_config_check(const ResNetConfig *cfg, Error *err) {
    _Static_assert(RESNET_MAX_STAGES == 4, "resnet_config_fields lists four stages");
    if (!config_in_range(cfg, resnet_config_fields, resnet_config_field_count, err)) return false;
    if (cfg->root_kernel % 2 == 0)
        return error_set(err, "root kernel size must be odd, got %d", cfg->root_kernel);
    if (cfg->root_width % cfg->groups != 0)
        return error_set(err, "root width %d is not divisible by %d groups", cfg->root_width,
                         cfg->groups);
    int total = 0;
    for (int s = 0; s < RESNET_MAX_STAGES; s++) {
        int u = cfg->units[s], w = cfg->width[s], st = cfg->stride[s];
        if (s >= cfg->num_stages) {
            if (u != 0 || w != 0 || st != 0)
                return error_set(err,
                                 "stage %d is past the %d stages: its units, width and "
                                 "stride must be 0",
                                 s + 1, cfg->num_stages);
            continue;
        }
        if (u < 1 || w < 1 || st < 1)
            return error_set(err, "stage %d needs at least one unit, a width and a stride", s + 1);
        if (w % cfg->groups != 0)
            return error_set(err, "width %d of stage %d is not divisible by %d groups", w, s + 1,
                             cfg->groups);
        total += u;
    }
    if (total > RESNET_MAX_UNITS)
        return error_set(err, "%d units in all, at most %d", total, RESNET_MAX_UNITS);
    return true;
}

int resnet_total_units(const ResNetConfig *cfg) {
    int total = 0;
    for (int s = 0; s < cfg->num_stages; s++) total += cfg->units[s];
    return total;
}

int resnet_root_side(const ResNetConfig *cfg) {
    int K = cfg->root_kernel;
    return conv2d_out_size(cfg->image_size, K, cfg->root_stride, K / 2);
}

int resnet_pool_side(const ResNetConfig *cfg) {
    return conv2d_out_size(resnet_root_side(cfg), 3, 2, 1);
}

ResNetUnitShape resnet_unit_shape(const ResNetConfig *cfg, int u) {
    assert(u >= 0 && u < resnet_total_units(cfg));
    ResNetUnitShape sh = {.Cu = cfg->root_width, .H = resnet_pool_side(cfg)};
    for (int s = 0, k = 0; s < cfg->num_stages; s++) {
        for (int i = 0; i < cfg->units[s]; i++, k++) {
            sh.stage = s;
            sh.index = i;
            sh.w = cfg->width[s];
            sh.stride = i == 0 ? cfg->stride[s] : 1;
            sh.Ho = conv2d_out_size(sh.H, 3, sh.stride, 1); // = the 1x1 projection's
            sh.proj = sh.Cu != 4 * sh.w || sh.stride != 1;
            if (k == u) return sh;
            sh.Cu = 4 * sh.w;
            sh.H = sh.Ho;
        }
    }
    assert(0 && "unreachable");
    return sh;
}

int resnet_out_channels(const ResNetConfig *cfg) {
    int n = cfg->num_stages;
    return n == 0 ? cfg->root_width : 4 * cfg->width[n - 1];
}

int resnet_out_side(const ResNetConfig *cfg) {
    int U = resnet_total_units(cfg);
    return U == 0 ? resnet_pool_side(cfg) : resnet_unit_shape(cfg, U - 1).Ho;
}

long long resnet_param_count(const ResNetConfig *cfg) {
    long long Cr = cfg->root_width, K = cfg->root_kernel;
    long long count = Cr * cfg->in_channels * K * K + 2 * Cr; // root.conv, root.gn
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        long long w = sh.w, Cu = sh.Cu;
        count += w * Cu + 2 * w                       // conv1 (w,Cu,1,1), gn1
                 + w * w * 9 + 2 * w                  // conv2 (w,w,3,3), gn2
                 + 4 * w * w + 2 * 4 * w;             // conv3 (4w,w,1,1), gn3
        if (sh.proj) count += 4 * w * Cu + 2 * 4 * w; // proj.conv (4w,Cu,1,1), proj.gn
    }
    return count;
}

double resnet_forward_flops(const ResNetConfig *cfg) {
    double S1 = resnet_root_side(cfg), K = cfg->root_kernel;
    double flops = 2 * S1 * S1 * cfg->root_width * cfg->in_channels * K * K; // root.conv
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        double w = sh.w, Cu = sh.Cu, H2 = (double)sh.H * sh.H, Ho2 = (double)sh.Ho * sh.Ho;
        flops += 2 * H2 * w * Cu        // conv1, at the input's size
                 + 2 * Ho2 * w * w * 9  // conv2, strided
                 + 2 * Ho2 * 4 * w * w; // conv3
        if (sh.proj) flops += 2 * Ho2 * 4 * w * Cu;
    }
    return flops;
}

// a * b, or LLONG_MAX when that overflows (both non-negative).
static long long times(long long a, long long b) {
    return b != 0 && a > LLONG_MAX / b ? LLONG_MAX : a * b;
}

// A (B, C, side, side) map's elements.
static long long map_count(int B, long long C, long long side) {
    return times(times(B, C), side * side);
}

bool resnet_sizes_check(const ResNetConfig *cfg, int B, Error *err) {
    long long Cr = cfg->root_width, K = cfg->root_kernel, S1 = resnet_root_side(cfg);
    long long weight = 0, in = 0, out = 0; // the largest unit weight, input map, output map
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        long long w = sh.w, Cu = sh.Cu, sizes[] = {w * w * 9, 4 * w * Cu, 4 * w * w};
        for (int i = 0; i < 3; i++) weight = sizes[i] > weight ? sizes[i] : weight;
        long long a = map_count(B, w > Cu ? w : Cu, sh.H), b = map_count(B, 4 * w, sh.Ho);
        in = a > in ? a : in;
        out = b > out ? b : out;
    }
    const struct {
        const char *shape;
        long long count;
    } sizes[] = {
        {"root.conv.weight (Cr,Cin,K,K)", Cr * cfg->in_channels * K * K},
        {"a unit's largest weight", weight},
        {"the images (B,Cin,S,S)", map_count(B, cfg->in_channels, cfg->image_size)},
        {"the root's maps (B,Cr,S1,S1)", map_count(B, Cr, S1)},
        {"a unit's input maps (B,Cu,H,H)", in},
        {"a unit's output maps (B,4w,Ho,Ho)", out},
        {"the convolutions' scratch", (long long)resnet_scratch_floats(cfg)},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].count > VIT_MAX_ELEMENTS)
            return error_set(err, "%s would hold %lld elements, more than the %lld an int indexes",
                             sizes[i].shape, sizes[i].count, VIT_MAX_ELEMENTS);
    return true;
}

// ---- parameters and activations, listed once -------------------------------------------

// "<prefix>.<name>" into out, or just name without a prefix.
static void prefixed(char *out, size_t size, const char *prefix, const char *name) {
    if (prefix == NULL || prefix[0] == '\0')
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%s.%s", prefix, name);
}

static void unit_params_add(Tensors *t, ResNetUnitWeights *w, const ResNetUnitShape *sh,
                            const char *p) {
    int W = sh->w, c1[] = {W, sh->Cu, 1, 1}, c2[] = {W, W, 3, 3}, c3[] = {4 * W, W, 1, 1};
    int pr[] = {4 * W, sh->Cu, 1, 1}, n[] = {W}, n4[] = {4 * W};
    tensors_add(t, &w->conv1_w, 4, c1, "%s.conv1.weight", p);
    tensors_add(t, &w->gn1_w, 1, n, "%s.gn1.weight", p);
    tensors_add(t, &w->gn1_b, 1, n, "%s.gn1.bias", p);
    tensors_add(t, &w->conv2_w, 4, c2, "%s.conv2.weight", p);
    tensors_add(t, &w->gn2_w, 1, n, "%s.gn2.weight", p);
    tensors_add(t, &w->gn2_b, 1, n, "%s.gn2.bias", p);
    tensors_add(t, &w->conv3_w, 4, c3, "%s.conv3.weight", p);
    tensors_add(t, &w->gn3_w, 1, n4, "%s.gn3.weight", p);
    tensors_add(t, &w->gn3_b, 1, n4, "%s.gn3.bias", p);
    if (!sh->proj) return;
    tensors_add(t, &w->proj_w, 4, pr, "%s.proj.conv.weight", p);
    tensors_add(t, &w->proj_gn_w, 1, n4, "%s.proj.gn.weight", p);
    tensors_add(t, &w->proj_gn_b, 1, n4, "%s.proj.gn.bias", p);
}

void resnet_params_add(Tensors *t, ResNetWeights *w, const ResNetConfig *cfg, const char *prefix) {
    assert(resnet_config_check(cfg, NULL));
    int Cr = cfg->root_width, K = cfg->root_kernel;
    int conv[] = {Cr, cfg->in_channels, K, K}, c[] = {Cr};
    char p[128], name[48];
    *w = (ResNetWeights){0};
    prefixed(p, sizeof p, prefix, "root");
    tensors_add(t, &w->root_w, 4, conv, "%s.conv.weight", p);
    tensors_add(t, &w->root_gn_w, 1, c, "%s.gn.weight", p);
    tensors_add(t, &w->root_gn_b, 1, c, "%s.gn.bias", p);
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        snprintf(name, sizeof name, "stages.%d.units.%d", sh.stage, sh.index);
        prefixed(p, sizeof p, prefix, name);
        unit_params_add(t, &w->unit[u], &sh, p);
    }
}

static void unit_acts_add(Tensors *t, ResNetUnitActivations *a, const ResNetUnitShape *sh, int B,
                          int G, const char *p) {
    int in[] = {B, sh->w, sh->H, sh->H}, mid[] = {B, sh->w, sh->Ho, sh->Ho};
    int out[] = {B, 4 * sh->w, sh->Ho, sh->Ho}, stats[] = {B, G};
    tensors_add(t, &a->c1, 4, in, "%s.c1", p);
    tensors_add(t, &a->n1, 4, in, "%s.n1", p);
    tensors_add(t, &a->a1, 4, in, "%s.a1", p);
    tensors_add(t, &a->c2, 4, mid, "%s.c2", p);
    tensors_add(t, &a->n2, 4, mid, "%s.n2", p);
    tensors_add(t, &a->a2, 4, mid, "%s.a2", p);
    tensors_add(t, &a->c3, 4, out, "%s.c3", p);
    tensors_add(t, &a->sum, 4, out, "%s.sum", p);
    tensors_add(t, &a->out, 4, out, "%s.out", p);
    tensors_add(t, &a->mean1, 2, stats, "%s.mean1", p);
    tensors_add(t, &a->rstd1, 2, stats, "%s.rstd1", p);
    tensors_add(t, &a->mean2, 2, stats, "%s.mean2", p);
    tensors_add(t, &a->rstd2, 2, stats, "%s.rstd2", p);
    tensors_add(t, &a->mean3, 2, stats, "%s.mean3", p);
    tensors_add(t, &a->rstd3, 2, stats, "%s.rstd3", p);
    if (!sh->proj) return;
    tensors_add(t, &a->proj_c, 4, out, "%s.proj_c", p);
    tensors_add(t, &a->proj, 4, out, "%s.proj", p);
    tensors_add(t, &a->proj_mean, 2, stats, "%s.proj_mean", p);
    tensors_add(t, &a->proj_rstd, 2, stats, "%s.proj_rstd", p);
}

void resnet_acts_add(Tensors *t, ResNetActivations *a, const ResNetConfig *cfg, int B) {
    assert(resnet_config_check(cfg, NULL) && B > 0);
    int Cr = cfg->root_width, S1 = resnet_root_side(cfg), S2 = resnet_pool_side(cfg);
    int images[] = {B, cfg->in_channels, cfg->image_size, cfg->image_size};
    int root[] = {B, Cr, S1, S1}, pool[] = {B, Cr, S2, S2}, stats[] = {B, cfg->groups};
    *a = (ResNetActivations){0};
    tensors_add(t, &a->images, 4, images, "resnet.images");
    tensors_add(t, &a->root_c, 4, root, "resnet.root.c");
    tensors_add(t, &a->root_n, 4, root, "resnet.root.n");
    tensors_add(t, &a->root_a, 4, root, "resnet.root.a");
    tensors_add(t, &a->root_mean, 2, stats, "resnet.root.mean");
    tensors_add(t, &a->root_rstd, 2, stats, "resnet.root.rstd");
    tensors_add(t, &a->pool, 4, pool, "resnet.root.pool");
    tensors_add(t, &a->pool_argmax, 4, pool, "resnet.root.pool_argmax"); // ints
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        char p[64];
        snprintf(p, sizeof p, "resnet.stages.%d.units.%d", sh.stage, sh.index);
        unit_acts_add(t, &a->unit[u], &sh, B, cfg->groups, p);
    }
}

int *resnet_pool_argmax(const ResNetActivations *a) {
    return (int *)(void *)a->pool_argmax;
}

float *resnet_out(const ResNetActivations *a, const ResNetConfig *cfg) {
    int U = resnet_total_units(cfg);
    return U == 0 ? a->pool : a->unit[U - 1].out;
}

// ---- initialisation -----------------------------------------------------------------------

static void fill(float *x, int n, float value) {
    for (int i = 0; i < n; i++) x[i] = value;
}

// LeCun normal for a conv weight (Cout, fan_in), cut at ±2 std. Standardised
// before use, its scale does not matter; its direction does.
static void lecun_normal(float *w, int Cout, int fan_in, Rng *rng) {
    float std = sqrtf(1.0f / (float)fan_in);
    rng_fill_trunc_normal(rng, w, Cout * fan_in, std, -2.0f * std, 2.0f * std);
}

void resnet_init(ResNetWeights *w, const ResNetConfig *cfg, Rng *rng) {
    int Cr = cfg->root_width, K = cfg->root_kernel;
    lecun_normal(w->root_w, Cr, cfg->in_channels * K * K, rng);
    fill(w->root_gn_w, Cr, 1.0f);
    fill(w->root_gn_b, Cr, 0.0f);
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        ResNetUnitWeights *x = &w->unit[u];
        int W = sh.w;
        lecun_normal(x->conv1_w, W, sh.Cu, rng);
        lecun_normal(x->conv2_w, W, W * 9, rng);
        lecun_normal(x->conv3_w, 4 * W, W, rng);
        fill(x->gn1_w, W, 1.0f);
        fill(x->gn1_b, W, 0.0f);
        fill(x->gn2_w, W, 1.0f);
        fill(x->gn2_b, W, 0.0f);
        fill(x->gn3_w, 4 * W, 0.0f); // the paper's gn3: scale_init=zeros
        fill(x->gn3_b, 4 * W, 0.0f);
        if (!sh.proj) continue;
        lecun_normal(x->proj_w, 4 * W, sh.Cu, rng);
        fill(x->proj_gn_w, 4 * W, 1.0f);
        fill(x->proj_gn_b, 4 * W, 0.0f);
    }
}

// ---- forward -----------------------------------------------------------------------------

// The convolutions' part of the scratch (conv2d_gemm's chunks): the first floats,
// before the weights'.
size_t resnet_cols_floats(const ResNetConfig *cfg) {
    int K = cfg->root_kernel, S = cfg->image_size;
    size_t cols = conv2d_gemm_chunk_scratch_floats(cfg->in_channels, S, S, cfg->root_width, K,
                                                   cfg->root_stride, K / 2);
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        int W = sh.w, H = sh.H, Ho = sh.Ho, s = sh.stride;
        size_t sizes[] = {conv2d_gemm_chunk_scratch_floats(sh.Cu, H, H, W, 1, 1, 0),      // conv1
                          conv2d_gemm_chunk_scratch_floats(W, H, H, W, 3, s, 1),          // conv2
                          conv2d_gemm_chunk_scratch_floats(W, Ho, Ho, 4 * W, 1, 1, 0),    // conv3
                          conv2d_gemm_chunk_scratch_floats(sh.Cu, H, H, 4 * W, 1, s, 0)}; // proj
        for (int i = 0; i < 4; i++) cols = sizes[i] > cols ? sizes[i] : cols;
    }
    return cols;
}

// The layout of the scratch: the convolutions' (resnet_cols_floats), then one
// convolution's wstd (Cout, fan_in), its std (Cout), and its gradient dwstd
// (Cout, fan_in).
size_t resnet_scratch_floats(const ResNetConfig *cfg) {
    int K = cfg->root_kernel;
    size_t weights = (size_t)cfg->root_width * cfg->in_channels * K * K;
    size_t couts = (size_t)cfg->root_width;
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        size_t W = (size_t)sh.w, Cu = (size_t)sh.Cu;
        size_t sizes[] = {W * Cu, W * W * 9, 4 * W * W, 4 * W * Cu}; // conv1, 2, 3, proj
        for (int i = 0; i < 4; i++) weights = sizes[i] > weights ? sizes[i] : weights;
        couts = 4 * W > couts ? 4 * W : couts;
    }
    return resnet_cols_floats(cfg) + 2 * weights + couts;
}

void resnet_stdconv_forward(float *out, float *scratch, const float *in, const float *weight, int B,
                            int Cin, int H, int Cout, int K, int stride, size_t cols) {
    float *wstd = scratch + cols, *std = wstd + (size_t)Cout * Cin * K * K;
    weight_standardize_forward(wstd, std, weight, Cout, Cin * K * K);
    conv2d_gemm_chunked_forward(out, scratch, in, wstd, NULL, B, Cin, H, H, Cout, K, stride, K / 2);
}

// region: bottleneck-unit
static void unit_forward(ResNetUnitActivations *a, const float *x, const ResNetUnitWeights *w,
                         const ResNetUnitShape *sh, int B, int G, float *scratch, size_t cols) {
    // x (B,Cu,H,H); a->out (B,4w,Ho,Ho)
    int W = sh->w, H = sh->H, Ho = sh->Ho, s = sh->stride;
    int n_in = B * W * H * H, n_mid = B * W * Ho * Ho, n_out = B * 4 * W * Ho * Ho;
    // 1. a1 = ReLU(GN1(conv1 1x1 (x)))
    resnet_stdconv_forward(a->c1, scratch, x, w->conv1_w, B, sh->Cu, H, W, 1, 1, cols);
    groupnorm_forward(a->n1, a->mean1, a->rstd1, a->c1, w->gn1_w, w->gn1_b, B, W, H, H, G);
    relu_forward(a->a1, a->n1, n_in);
    // 2. a2 = ReLU(GN2(conv2 3x3, stride s (a1)))
    resnet_stdconv_forward(a->c2, scratch, a->a1, w->conv2_w, B, W, H, W, 3, s, cols);
    groupnorm_forward(a->n2, a->mean2, a->rstd2, a->c2, w->gn2_w, w->gn2_b, B, W, Ho, Ho, G);
    relu_forward(a->a2, a->n2, n_mid);
    // 3. sum = GN3(conv3 1x1 (a2)) + shortcut, shortcut = GNp(proj 1x1, stride s (x)) or x
    resnet_stdconv_forward(a->c3, scratch, a->a2, w->conv3_w, B, W, Ho, 4 * W, 1, 1, cols);
    groupnorm_forward(a->sum, a->mean3, a->rstd3, a->c3, w->gn3_w, w->gn3_b, B, 4 * W, Ho, Ho, G);
    const float *shortcut = x;
    if (sh->proj) {
        resnet_stdconv_forward(a->proj_c, scratch, x, w->proj_w, B, sh->Cu, H, 4 * W, 1, s, cols);
        groupnorm_forward(a->proj, a->proj_mean, a->proj_rstd, a->proj_c, w->proj_gn_w,
                          w->proj_gn_b, B, 4 * W, Ho, Ho, G);
        shortcut = a->proj;
    }
    for (int i = 0; i < n_out; i++) a->sum[i] += shortcut[i];
    // 4. out = ReLU(sum)
    relu_forward(a->out, a->sum, n_out);
}
// endregion: bottleneck-unit

void resnet_forward(ResNetActivations *a, const ResNetWeights *w, const ResNetConfig *cfg, int B,
                    const float *images, float *scratch) {
    // images (B,Cin,S,S); the result is resnet_out(a, cfg) (B,Cout,side,side)
    int Cr = cfg->root_width, G = cfg->groups, S1 = resnet_root_side(cfg);
    int Cin = cfg->in_channels, S = cfg->image_size;
    size_t cols = resnet_cols_floats(cfg);
    // 0. the images, kept for the root's weight gradient
    memcpy(a->images, images, sizeof(float) * B * Cin * S * S);
    // 1. the root: root_a = ReLU(GN(StdConv K x K, stride (images)))
    resnet_stdconv_forward(a->root_c, scratch, a->images, w->root_w, B, cfg->in_channels,
                           cfg->image_size, Cr, cfg->root_kernel, cfg->root_stride, cols);
    groupnorm_forward(a->root_n, a->root_mean, a->root_rstd, a->root_c, w->root_gn_w, w->root_gn_b,
                      B, Cr, S1, S1, G);
    relu_forward(a->root_a, a->root_n, B * Cr * S1 * S1);
    // 2. pool = max pool 3x3, stride 2, padding 1 (root_a)
    maxpool_forward(a->pool, resnet_pool_argmax(a), a->root_a, B, Cr, S1, S1, 3, 2, 1);
    // 3. the stages: each unit reads the one before it (the first, the pool)
    const float *x = a->pool;
    for (int u = 0; u < resnet_total_units(cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        unit_forward(&a->unit[u], x, &w->unit[u], &sh, B, G, scratch, cols);
        x = a->unit[u].out;
    }
}
