// resnet_backward.c — the ResNet's backward pass: each unit from its output
// back to its input, last unit first, then the max pool and the root; every
// step quotes the forward line (resnet.c) it differentiates.
#include <string.h>
#include "conv2d_gemm.h"
#include "groupnorm.h"
#include "maxpool.h"
#include "relu.h"
#include "resnet.h"
#include "weight_standardize.h"

// x (n) = 0, for a gradient that the next layer's backward pass adds into.
static float *zeroed(float *x, size_t n) {
    memset(x, 0, n * sizeof(float));
    return x;
}

// forward: out = in ⋆ standardise(weight), padding K/2, no bias. din (B,Cin,H,H)
// (or NULL) and dweight (Cout,Cin,K,K) += from dout (B,Cout,Ho,Ho); the weight is
// standardised again into the scratch, nothing having been kept there.
static void stdconv_backward(float *din, float *dweight, float *scratch, const float *dout,
                             const float *in, const float *weight, int B, int Cin, int H, int Cout,
                             int K, int stride, size_t cols) {
    int fan_in = Cin * K * K;
    float *wstd = scratch + cols, *std = wstd + (size_t)Cout * fan_in, *dwstd = std + Cout;
    weight_standardize_forward(wstd, std, weight, Cout, fan_in);
    zeroed(dwstd, (size_t)Cout * fan_in);
    conv2d_gemm_chunked_backward(din, dwstd, NULL, scratch, dout, in, wstd, B, Cin, H, H, Cout, K,
                                 stride, K / 2);
    weight_standardize_backward(dweight, dwstd, wstd, std, Cout, fan_in);
}

// One unit: dx (B,Cu,H,H) += from dout (B,4w,Ho,Ho); g += its parameters' gradients;
// d holds its activations' gradients (overwritten).
static void unit_backward(float *dx, ResNetUnitWeights *g, ResNetUnitActivations *d,
                          const float *dout, const float *x, const ResNetUnitActivations *a,
                          const ResNetUnitWeights *w, const ResNetUnitShape *sh, int B, int G,
                          float *scratch, size_t cols) {
    int W = sh->w, H = sh->H, Ho = sh->Ho, s = sh->stride, Cu = sh->Cu;
    size_t n_in = (size_t)B * W * H * H, n_mid = (size_t)B * W * Ho * Ho;
    size_t n_out = (size_t)B * 4 * W * Ho * Ho;
    // 4. forward: out = ReLU(sum)
    relu_backward(zeroed(d->sum, n_out), dout, a->sum, (int)n_out);
    // 3. forward: sum = GN3(conv3 1x1 (a2)) + shortcut, shortcut = GNp(proj 1x1, stride s (x)) or x
    if (sh->proj) {
        groupnorm_backward(zeroed(d->proj_c, n_out), g->proj_gn_w, g->proj_gn_b, d->sum, a->proj_c,
                           w->proj_gn_w, a->proj_mean, a->proj_rstd, B, 4 * W, Ho, Ho, G);
        stdconv_backward(dx, g->proj_w, scratch, d->proj_c, x, w->proj_w, B, Cu, H, 4 * W, 1, s,
                         cols);
    } else {
        for (size_t i = 0; i < n_out; i++) dx[i] += d->sum[i];
    }
    groupnorm_backward(zeroed(d->c3, n_out), g->gn3_w, g->gn3_b, d->sum, a->c3, w->gn3_w, a->mean3,
                       a->rstd3, B, 4 * W, Ho, Ho, G);
    stdconv_backward(zeroed(d->a2, n_mid), g->conv3_w, scratch, d->c3, a->a2, w->conv3_w, B, W, Ho,
                     4 * W, 1, 1, cols);
    // 2. forward: a2 = ReLU(GN2(conv2 3x3, stride s (a1)))
    groupnorm_relu_backward(zeroed(d->c2, n_mid), g->gn2_w, g->gn2_b, d->a2, a->n2, a->c2, w->gn2_w,
                            a->mean2, a->rstd2, B, W, Ho, Ho, G);
    stdconv_backward(zeroed(d->a1, n_in), g->conv2_w, scratch, d->c2, a->a1, w->conv2_w, B, W, H, W,
                     3, s, cols);
    // 1. forward: a1 = ReLU(GN1(conv1 1x1 (x)))
    groupnorm_relu_backward(zeroed(d->c1, n_in), g->gn1_w, g->gn1_b, d->a1, a->n1, a->c1, w->gn1_w,
                            a->mean1, a->rstd1, B, W, H, H, G);
    stdconv_backward(dx, g->conv1_w, scratch, d->c1, x, w->conv1_w, B, Cu, H, W, 1, 1, cols);
}

void resnet_backward(ResNetWeights *grads, ResNetActivations *dacts, float *dimages,
                     const float *dout, const ResNetActivations *acts, const ResNetWeights *w,
                     const ResNetConfig *cfg, int B, float *scratch) {
    // dout (B,Cout,side,side); dimages (B,Cin,S,S) or NULL
    int Cr = cfg->root_width, G = cfg->groups, S1 = resnet_root_side(cfg);
    int U = resnet_total_units(cfg);
    size_t cols = resnet_cols_floats(cfg), n_root = (size_t)B * Cr * S1 * S1;
    // 3. forward: each unit reads the one before it (the first, the pool)
    for (int u = U - 1; u >= 0; u--) {
        ResNetUnitShape sh = resnet_unit_shape(cfg, u);
        const float *x = u > 0 ? acts->unit[u - 1].out : acts->pool;
        float *dx =
            zeroed(u > 0 ? dacts->unit[u - 1].out : dacts->pool, (size_t)B * sh.Cu * sh.H * sh.H);
        unit_backward(dx, &grads->unit[u], &dacts->unit[u], dout, x, &acts->unit[u], &w->unit[u],
                      &sh, B, G, scratch, cols);
        dout = dx;
    }
    // 2. forward: pool = max pool 3x3, stride 2, padding 1 (root_a)
    maxpool_backward(zeroed(dacts->root_a, n_root), dout, resnet_pool_argmax(acts), B, Cr, S1, S1,
                     3, 2, 1);
    // 1. forward: root_a = ReLU(GN(StdConv K x K, stride (images)))
    groupnorm_relu_backward(zeroed(dacts->root_c, n_root), grads->root_gn_w, grads->root_gn_b,
                            dacts->root_a, acts->root_n, acts->root_c, w->root_gn_w,
                            acts->root_mean, acts->root_rstd, B, Cr, S1, S1, G);
    stdconv_backward(dimages, grads->root_w, scratch, dacts->root_c, acts->images, w->root_w, B,
                     cfg->in_channels, cfg->image_size, Cr, cfg->root_kernel, cfg->root_stride,
                     cols);
}
