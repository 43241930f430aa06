// resnet.h — the ResNet of the paper's hybrid (and of chapter 07's CNN): a
// root, then stages of bottleneck residual units, all of StdConv and GroupNorm,
// built as the paper's own code builds it (google-research/vision_transformer,
// vit_jax/models_vit.py for the root, vit_jax/models_resnet.py for the units):
//
//   root:  StdConv K x K, stride, padding K/2, no bias -> GroupNorm -> ReLU
//          -> max pool 3x3, stride 2, padding 1
//   unit:  branch   = GN3(conv3 1x1 (ReLU(GN2(conv2 3x3, stride, pad 1
//                         (ReLU(GN1(conv1 1x1 (x))))))))
//          shortcut = GNp(proj 1x1, stride (x))   when the shape changes, else x
//          out      = ReLU(shortcut + branch)
//
// A stage is `units` units of bottleneck width w: conv1 and conv2 have w
// channels, conv3 and the unit's output 4w (the paper's expansion); its first
// unit carries the stage's stride (on conv2 and on the projection), the others
// stride 1. Every convolution is a StdConv (src/weight_standardize.h), with no
// bias, as in the paper.
//
// Padding: symmetric, K/2, as torch's; the paper's "SAME" gives the same sizes
// but pads one pixel less above and left when a stride-2 window does not fit
// evenly (the max pool, and the root on even sizes).
//
// GroupNorm: one number of groups G for every GroupNorm, as the paper (32
// everywhere); G must divide the root width and every stage width (then also
// 4w). The paper's narrowest GroupNorms, the root's and stage 1's 64 channels
// in 32 groups, have 2 channels a group; the suggested configurations below
// keep that: G = root width / 2.
//
// Sizes: S image side, Cin image channels, Cr root width, G groups; a unit
// reads (B,Cu,H,H) and writes (B,4w,Ho,Ho), Ho = (H - 1) / stride + 1.
//
// Memory: parameters and activations are listed with tensors_add (parameters
// under the names a short PyTorch module's state_dict gives them,
// tools/reference.py's ResNet). Every activation is (B, ...), so a thread's
// view of its images (src/vit.c's slices) is an offset into each. The max
// pool's argmax is an int array; it is listed among the floats as a tensor
// of the same shape (ints and floats are both 4 bytes) and read through an
// int pointer (resnet_pool_argmax), so it too is sliced with the rest.
//
// Scratch: resnet_scratch_floats(cfg) floats per call, the caller's (one per
// thread): the largest convolution's (conv2d_gemm.h's chunks: a chunk of
// images' columns and their output), and one convolution's standardised
// weights, their standard deviations and their gradient. Nothing is kept there
// between calls: the backward pass standardises each weight again (cheap: a
// pass over the weights).
#ifndef RESNET_H
#define RESNET_H

#include <stdbool.h>
#include "error.h"
#include "rng.h"
#include "tensors.h"
#include "vit_config.h"

#define RESNET_MAX_STAGES 4
#define RESNET_MAX_UNITS  16 // in all stages: the paper's R50 hybrid has 3 + 4 + 9

typedef struct {
    int image_size;                // S: H = W of the input
    int in_channels;               // Cin
    int root_width;                // Cr: channels of the root
    int root_kernel;               // K of the root's convolution, odd (padding K/2)
    int root_stride;               // its stride
    int groups;                    // G: groups of every GroupNorm
    int num_stages;                // 0..RESNET_MAX_STAGES
    int units[RESNET_MAX_STAGES];  // units in each stage (0 past num_stages)
    int width[RESNET_MAX_STAGES];  // each stage's bottleneck width w; it outputs 4w
    int stride[RESNET_MAX_STAGES]; // each stage's stride, on its first unit
} ResNetConfig;

// The fields of ResNetConfig, for checks and checkpoint metadata (vit_config.h's
// ConfigField): stage s's values are "stage<s+1>_units", "_width", "_stride".
extern const ConfigField resnet_config_fields[];
extern const int resnet_config_field_count;

// The suggested configurations for 28x28 Fashion-MNIST (docs: chapter 07).
// The hybrid's stem: root 16 (7x7, stride 2) -> 14x14, pool -> 7x7, one unit
// of width 16, stride 2 -> (64,4,4): the 16-token grid of chapter 06's 7x7
// patches. 5,744 parameters, 0.47 MFLOPs an image.
extern const ResNetConfig resnet_hybrid_stem;
// The CNN's body: the same root, then stages of 2 units of widths 16, 32, 64
// with strides 1, 2, 2 -> (256,2,2). 218,160 parameters (220,730 with global
// average pooling and a 10-class linear head), 4.14 MFLOPs an image.
extern const ResNetConfig resnet_cnn_body;

// Every field in range, the used stages' values >= 1 and the others 0, the
// root kernel odd, G dividing every width, at most RESNET_MAX_UNITS units.
bool resnet_config_check(const ResNetConfig *cfg, Error *err);
// Whether a ResNet of shape cfg (checked) fits in memory for batches of B
// images: every weight, every (B, channels, side, side) map and the scratch,
// counted in 64 bits before anything is allocated, within VIT_MAX_ELEMENTS
// (what an int indexes). err names the largest and why.
bool resnet_sizes_check(const ResNetConfig *cfg, int B, Error *err);
int resnet_total_units(const ResNetConfig *cfg);
// The output feature map: (B, resnet_out_channels, side, side).
int resnet_out_channels(const ResNetConfig *cfg); // 4w of the last stage, or Cr
int resnet_out_side(const ResNetConfig *cfg);
// Parameters (conv weights and GroupNorm weights and biases), counted from
// the sizes; resnet_params_add lists exactly these.
long long resnet_param_count(const ResNetConfig *cfg);
// FLOPs of one image's forward pass, a multiply-add counted as 2: the
// convolutions; GroupNorm, ReLU, pooling and the standardisation are left out
// (a few percent).
double resnet_forward_flops(const ResNetConfig *cfg);

typedef struct {
    float *conv1_w;               // (w,Cu,1,1)
    float *gn1_w, *gn1_b;         // (w)
    float *conv2_w;               // (w,w,3,3)
    float *gn2_w, *gn2_b;         // (w)
    float *conv3_w;               // (4w,w,1,1)
    float *gn3_w, *gn3_b;         // (4w)
    float *proj_w;                // (4w,Cu,1,1), NULL without a projection
    float *proj_gn_w, *proj_gn_b; // (4w), NULL without a projection
} ResNetUnitWeights;

typedef struct {
    float *root_w;                            // (Cr,Cin,K,K) root.conv
    float *root_gn_w, *root_gn_b;             // (Cr) root.gn
    ResNetUnitWeights unit[RESNET_MAX_UNITS]; // every stage's units in order
} ResNetWeights;

typedef struct {
    float *c1, *n1, *a1;  // (B,w,H,H) conv1, GN1 of it, ReLU of that
    float *c2, *n2, *a2;  // (B,w,Ho,Ho) the same for conv2
    float *c3;            // (B,4w,Ho,Ho) conv3
    float *proj_c, *proj; // (B,4w,Ho,Ho) the projection and its GN; NULL without
    float *sum;           // (B,4w,Ho,Ho) GN3(c3) + shortcut
    float *out;           // (B,4w,Ho,Ho) ReLU(sum): the unit's output
    float *mean1, *rstd1; // (B,G) each GroupNorm's statistics
    float *mean2, *rstd2, *mean3, *rstd3;
    float *proj_mean, *proj_rstd; // (B,G), NULL without a projection
} ResNetUnitActivations;

typedef struct {
    float *images;                   // (B,Cin,S,S) the input, kept for the backward pass
    float *root_c, *root_n, *root_a; // (B,Cr,S1,S1) conv, GN of it, ReLU of that
    float *root_mean, *root_rstd;    // (B,G)
    float *pool;                     // (B,Cr,S2,S2) the max pool
    float *pool_argmax;              // (B,Cr,S2,S2) ints (resnet_pool_argmax)
    ResNetUnitActivations unit[RESNET_MAX_UNITS];
} ResNetActivations;

// Unit u's place and sizes (u counted over all stages, 0..total - 1).
typedef struct {
    int stage, index; // stage s and its unit i: "stages.<s>.units.<i>"
    int Cu, H;        // it reads (B,Cu,H,H)
    int w, stride;    // bottleneck width, and the stride of conv2 and proj
    int Ho;           // it writes (B,4w,Ho,Ho)
    bool proj;        // projection shortcut: Cu != 4w or stride != 1
} ResNetUnitShape;
ResNetUnitShape resnet_unit_shape(const ResNetConfig *cfg, int u);
int resnet_root_side(const ResNetConfig *cfg); // S1: after the root's convolution
int resnet_pool_side(const ResNetConfig *cfg); // S2: after the max pool

// Lists the parameters in t, each name "<prefix>.root.conv.weight", ...,
// "<prefix>.stages.<s>.units.<i>.conv1.weight", ".gn1.weight", ...,
// ".proj.conv.weight", ".proj.gn.bias" (no "<prefix>." when prefix is NULL
// or ""), in the order of the PyTorch module's state_dict.
void resnet_params_add(Tensors *t, ResNetWeights *w, const ResNetConfig *cfg, const char *prefix);
// Lists the activations for batch size B in t (names "resnet.<...>").
void resnet_acts_add(Tensors *t, ResNetActivations *a, const ResNetConfig *cfg, int B);
// The pool's argmax as ints, and the output feature map (B,Cout,side,side):
// the last unit's out, or the pool without stages.
int *resnet_pool_argmax(const ResNetActivations *a);
float *resnet_out(const ResNetActivations *a, const ResNetConfig *cfg);

// The paper's initialisation: every convolution LeCun normal (flax's nn.Conv
// default; cut at ±2 std, as the encoder's patch embedding), GroupNorm scale 1
// and bias 0, except each unit's last GroupNorm (gn3), whose scale starts at
// 0, so every unit starts as ReLU(shortcut).
void resnet_init(ResNetWeights *w, const ResNetConfig *cfg, Rng *rng);

// Floats of scratch that resnet_forward and resnet_backward need.
size_t resnet_scratch_floats(const ResNetConfig *cfg);

// images (B,Cin,S,S) to the feature map resnet_out(a, cfg) (B,Cout,side,side);
// B may be smaller than the batch the activations were listed for.
void resnet_forward(ResNetActivations *a, const ResNetWeights *w, const ResNetConfig *cfg, int B,
                    const float *images, float *scratch);

// The backward pass (the convention: linear.h): from dout (B,Cout,side,side)
// to grads += every parameter's gradient, and dimages (B,Cin,S,S) += when not
// NULL. dacts (listed as acts) is overwritten; dout may be resnet_out(dacts).
// acts and w as the forward pass saw them.
void resnet_backward(ResNetWeights *grads, ResNetActivations *dacts, float *dimages,
                     const float *dout, const ResNetActivations *acts, const ResNetWeights *w,
                     const ResNetConfig *cfg, int B, float *scratch);

// Shared by resnet.c and resnet_backward.c: the convolutions' part of the
// scratch (its first floats); and one StdConv, out (B,Cout,Ho,Ho) = in (B,Cin,H,H) ⋆
// standardise(weight (Cout,Cin,K,K)), padding K/2, no bias, with
// wstd (Cout,Cin·K·K) and std (Cout) left in the scratch after the columns.
size_t resnet_cols_floats(const ResNetConfig *cfg);
void resnet_stdconv_forward(float *out, float *scratch, const float *in, const float *weight, int B,
                            int Cin, int H, int Cout, int K, int stride, size_t cols);

#endif
