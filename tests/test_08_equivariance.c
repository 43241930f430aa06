// test_08_equivariance.c — chapter 08: translations and what commutes with them.
//
// The shift (src/shift.h): by hand on a small map; a circular shift is undone
// bit for bit by the opposite one, whatever its size or sign; a zero-filled
// one gives back the input less the band it pushed out; a map of tokens moves
// whole cells; a shift by (0,0) copies. Circular padding against a wrap written
// out by hand.
//
// Equivariance, f(T x) = T f(x): a convolution with circular padding commutes
// with every circular shift bit for bit (each output adds the same products in
// the same order, only at another place); with zero padding it does so exactly
// away from the border and not near it; with stride 2 only shifts by an even
// number of pixels pass through (as a shift by half as many), while an odd one
// lands between two output cells. Global average pooling after a circular
// convolution is invariant (to float rounding: the sum of a plane is taken in
// another order). The ViT's patch embedding moves its tokens one grid cell
// for a shift by a whole patch P, and matches no token move for a shift by one
// pixel; without position embeddings the encoder's patch tokens move with the
// image and its class token stays, with them they do not.
//
// The errors are chapter 08's ‖f(Tx) − T f(x)‖ / ‖f(x)‖ (l2_distance / l2_norm).
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "conv2d.h"
#include "conv2d_circular.h"
#include "embed.h"
#include "global_avgpool.h"
#include "owned.h"
#include "rng.h"
#include "shift.h"
#include "vit.h"

static Vit vit;

static void release(void) {
    owned_release();
    vit_free(&vit);
}

TestSuite(shift, .fini = owned_release);
TestSuite(equivariance, .fini = release);

// ‖got − want‖ / ‖want‖ over n floats: chapter 08's equivariance error.
static double relative_error(const float *got, const float *want, size_t n) {
    return l2_distance(got, want, n) / l2_norm(want, n);
}

// a / d rounded down and up, for any integer a and d > 0.
static int div_down(int a, int d) {
    return (int)floor(a / (double)d);
}
static int div_up(int a, int d) {
    return (int)ceil(a / (double)d);
}

// ---- the shift ---------------------------------------------------------------------------

// out[y][x] = in[y-1][x-1] on a 3x4 map holding 0..11 row by row.
Test(shift, by_one_down_and_right_by_hand) {
    float in[12], out[12];
    for (int i = 0; i < 12; i++) in[i] = (float)i;
    const float circular[12] = {11, 8, 9, 10, 3, 0, 1, 2, 7, 4, 5, 6};
    const float zero[12] = {0, 0, 0, 0, 0, 0, 1, 2, 0, 4, 5, 6};
    shift_map(out, in, 1, 3, 4, 1, 1, 1, SHIFT_CIRCULAR);
    expect_floats_equal("circular", out, circular, 12, 0);
    shift_map(out, in, 1, 3, 4, 1, 1, 1, SHIFT_ZERO);
    expect_floats_equal("zero", out, zero, 12, 0);
}

// The shifts the round trips take: small, negative, a whole turn and more.
static const int round_trips[][2] = {{1, 2},   {-3, 4}, {5, -7},  {-6, 15},
                                     {12, -1}, {0, 9},  {-11, 0}, {0, 0}};
enum { TRIPS = sizeof round_trips / sizeof round_trips[0] };

// T(-dy,-dx) T(dy,dx) x = x bit for bit, on 3 planes of 5x7, depth 1 and 3.
Test(shift, circular_is_undone_by_the_opposite_shift) {
    enum { planes = 3, H = 5, W = 7 };
    Rng rng;
    rng_seed(&rng, 1);
    for (int depth = 1; depth <= 3; depth += 2) {
        size_t n = (size_t)planes * H * W * depth;
        float *x = random_floats(&rng, n, 0, 1), *moved = floats(n), *back = floats(n);
        for (int i = 0; i < TRIPS; i++) {
            int dy = round_trips[i][0], dx = round_trips[i][1];
            shift_map(moved, x, planes, H, W, depth, dy, dx, SHIFT_CIRCULAR);
            shift_map(back, moved, planes, H, W, depth, -dy, -dx, SHIFT_CIRCULAR);
            char name[64];
            snprintf(name, sizeof name, "depth %d, shift (%d,%d) and back", depth, dy, dx);
            expect_floats_equal(name, back, x, n, 0);
        }
    }
    // whole turns are no move at all
    size_t n = (size_t)planes * H * W;
    float *x = random_floats(&rng, n, 0, 1), *moved = floats(n);
    shift_map(moved, x, planes, H, W, 1, -2 * H, 3 * W, SHIFT_CIRCULAR);
    expect_floats_equal("shift (-2H,3W)", moved, x, n, 0);
}

// T(-dy,-dx) T(dy,dx) x keeps x where (y+dy, x+dx) stayed on the grid, and is
// zero in the band the first shift pushed out (all of it when |d| >= H or W).
Test(shift, zero_fill_round_trip_loses_the_band_pushed_out) {
    enum { planes = 2, H = 5, W = 7 };
    Rng rng;
    rng_seed(&rng, 2);
    size_t n = (size_t)planes * H * W;
    float *x = random_floats(&rng, n, 0, 1), *moved = floats(n), *back = floats(n);
    float *want = floats(n);
    for (int i = 0; i < TRIPS; i++) {
        int dy = round_trips[i][0], dx = round_trips[i][1];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < H; y++)
                for (int x0 = 0; x0 < W; x0++) {
                    size_t at = ((size_t)p * H + y) * W + x0;
                    bool kept = y + dy >= 0 && y + dy < H && x0 + dx >= 0 && x0 + dx < W;
                    want[at] = kept ? x[at] : 0.0f;
                }
        shift_map(moved, x, planes, H, W, 1, dy, dx, SHIFT_ZERO);
        shift_map(back, moved, planes, H, W, 1, -dy, -dx, SHIFT_ZERO);
        char name[64];
        snprintf(name, sizeof name, "zero fill, shift (%d,%d) and back", dy, dx);
        expect_floats_equal(name, back, want, n, 0);
    }
}

// (planes,H,W,D) -> (planes,D,H,W), or back when back is set.
static void to_channels(float *out, const float *in, int planes, int H, int W, int D, bool back) {
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < H * W; i++)
            for (int d = 0; d < D; d++) {
                size_t cells = ((size_t)p * H * W + i) * D + d,
                       chans = ((size_t)p * D + d) * H * W + i;
                if (back)
                    out[cells] = in[chans];
                else
                    out[chans] = in[cells];
            }
}

// A map of tokens (2 planes of a 4x3 grid, 5 floats a cell) shifted as one is
// each of its 5 channels shifted as a plane of its own: whole cells move.
Test(shift, tokens_move_as_whole_cells) {
    enum { planes = 2, H = 4, W = 3, D = 5, n = planes * H * W * D };
    Rng rng;
    rng_seed(&rng, 3);
    float *x = random_floats(&rng, n, 0, 1), *moved = floats(n), *chans = floats(n);
    float *chans_moved = floats(n), *want = floats(n);
    to_channels(chans, x, planes, H, W, D, false);
    for (int fill = SHIFT_ZERO; fill <= SHIFT_CIRCULAR; fill++)
        for (int i = 0; i < TRIPS; i++) {
            int dy = round_trips[i][0], dx = round_trips[i][1];
            shift_map(moved, x, planes, H, W, D, dy, dx, fill);
            shift_map(chans_moved, chans, planes * D, H, W, 1, dy, dx, fill);
            to_channels(want, chans_moved, planes, H, W, D, true);
            char name[64];
            snprintf(name, sizeof name, "%s, shift (%d,%d)",
                     fill == SHIFT_ZERO ? "zero" : "circular", dy, dx);
            expect_floats_equal(name, moved, want, n, 0);
        }
}

Test(shift, by_zero_copies) {
    enum { planes = 2, H = 3, W = 4, D = 4, n = planes * H * W * D };
    Rng rng;
    rng_seed(&rng, 4);
    float *x = random_floats(&rng, n, 0, 1), *out = floats(n);
    for (int fill = SHIFT_ZERO; fill <= SHIFT_CIRCULAR; fill++)
        for (int depth = 1; depth <= D; depth += D - 1) {
            int p = planes * D / depth; // the same floats seen as planes of another depth
            shift_map(out, x, p, H, W, depth, 0, 0, fill);
            expect_floats_equal(fill == SHIFT_ZERO ? "zero fill" : "circular", out, x, n, 0);
        }
}

// Two channels of 2x3 (the second is the first + 10), padded by 1 and by 2 (= H).
Test(shift, pad_circular_wraps_around_by_hand) {
    const float in[12] = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};
    const float by_1[40] = {6,  4,  5,  6,  4,  3,  1,  2,  3,  1,  6,  4,  5,  6,
                            4,  3,  1,  2,  3,  1,  16, 14, 15, 16, 14, 13, 11, 12,
                            13, 11, 16, 14, 15, 16, 14, 13, 11, 12, 13, 11};
    const float row_0[7] = {2, 3, 1, 2, 3, 1, 2}, row_1[7] = {5, 6, 4, 5, 6, 4, 5};
    float out[84], by_2[84];
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 6; y++) // rows wrap to 0, 1, 0, 1, 0, 1
            for (int x = 0; x < 7; x++)
                by_2[(c * 6 + y) * 7 + x] = (y % 2 ? row_1 : row_0)[x] + 10 * c;
    pad_circular(out, in, 2, 2, 3, 1);
    expect_floats_equal("pad 1", out, by_1, 40, 0);
    pad_circular(out, in, 2, 2, 3, 2);
    expect_floats_equal("pad 2", out, by_2, 84, 0);
    pad_circular(out, in, 2, 2, 3, 0);
    expect_floats_equal("pad 0", out, in, 12, 0);
}

// ---- the convolution ---------------------------------------------------------------------

typedef struct {
    int B, Cin, H, W, Cout, K, stride, pad;
    float *weight, *bias; // (Cout,Cin,K,K), (Cout) or NULL
    float *scratch;       // a circularly padded image
} Conv;

static Conv conv_make(Rng *rng, int B, int Cin, int H, int W, int Cout, int K, int stride,
                      bool bias) {
    Conv c = {
        .B = B, .Cin = Cin, .H = H, .W = W, .Cout = Cout, .K = K, .stride = stride, .pad = K / 2};
    c.weight =
        random_floats(rng, (size_t)Cout * Cin * K * K, 0, 1.0f / sqrtf((float)(Cin * K * K)));
    c.bias = bias ? random_floats(rng, Cout, 0, 0.5f) : NULL;
    c.scratch = floats(conv2d_circular_scratch_floats(Cin, H, W, c.pad));
    return c;
}

static int conv_ho(const Conv *c) {
    return conv2d_out_size(c->H, c->K, c->stride, c->pad);
}
static int conv_wo(const Conv *c) {
    return conv2d_out_size(c->W, c->K, c->stride, c->pad);
}
static size_t conv_in_count(const Conv *c) {
    return (size_t)c->B * c->Cin * c->H * c->W;
}
static size_t conv_out_count(const Conv *c) {
    return (size_t)c->B * c->Cout * conv_ho(c) * conv_wo(c);
}

// out (B,Cout,Ho,Wo) = circular convolution of in (B,Cin,H,W).
static void conv_circular(const Conv *c, float *out, const float *in) {
    conv2d_circular_forward(out, c->scratch, in, c->weight, c->bias, c->B, c->Cin, c->H, c->W,
                            c->Cout, c->K, c->stride, c->pad);
}

// f(T x) (B,Cout,Ho,Wo) for the circular convolution: x (B,Cin,H,W) shifted
// circularly by (dy,dx), then convolved.
static void conv_of_shifted(const Conv *c, float *out, const float *x, int dy, int dx) {
    float *moved = floats(conv_in_count(c));
    shift_map(moved, x, c->B * c->Cin, c->H, c->W, 1, dy, dx, SHIFT_CIRCULAR);
    conv_circular(c, out, moved);
}

// Kernels 3 and 5, one channel or several, with and without bias, on 9x7
// and 8x10 images; shifts small, negative and past a whole turn: bit for bit.
Test(equivariance, circular_conv_commutes_with_every_circular_shift) {
    static const struct {
        int B, Cin, H, W, Cout, K;
        bool bias;
    } cases[] = {{2, 1, 9, 7, 3, 3, false},
                 {2, 3, 9, 7, 2, 3, true},
                 {1, 2, 8, 10, 3, 5, true},
                 {2, 3, 7, 7, 2, 5, false}};
    static const int shifts[][2] = {{1, 0}, {0, -1}, {2, -3}, {-4, 5}, {10, -15}, {3, 3}};
    Rng rng;
    rng_seed(&rng, 5);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Conv c = conv_make(&rng, cases[i].B, cases[i].Cin, cases[i].H, cases[i].W, cases[i].Cout,
                           cases[i].K, 1, cases[i].bias);
        size_t n = conv_out_count(&c);
        float *x = random_floats(&rng, conv_in_count(&c), 0, 1), *fx = floats(n);
        float *f_tx = floats(n), *t_fx = floats(n);
        conv_circular(&c, fx, x);
        for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
            int dy = shifts[s][0], dx = shifts[s][1];
            conv_of_shifted(&c, f_tx, x, dy, dx);
            shift_map(t_fx, fx, c.B * c.Cout, c.H, c.W, 1, dy, dx, SHIFT_CIRCULAR);
            char name[96];
            snprintf(name, sizeof name, "case %zu (%dx%d%s), shift (%d,%d)", i, c.K, c.K,
                     c.bias ? ", bias" : "", dy, dx);
            expect_floats_equal(name, f_tx, t_fx, n, 0);
        }
    }
}

// Zero padding: f(T x) = T f(x), both shifts zero-filling, exactly where the
// window of f(T x) lies inside the image and that of T f(x) holds all of x's
// content it needs: rows dy..H-r-1, columns dx..W-r-1 (r = K/2, dy,dx >= 0).
// In the band around them the border's zeros are seen differently, and on
// noise the two differ by a good part of the outputs' size.
Test(equivariance, zero_padded_conv_commutes_with_a_shift_only_away_from_the_border) {
    enum { B = 2, Cin = 2, H = 9, W = 10, Cout = 2 };
    static const int shifts[][2] = {{1, 2}, {3, 0}, {0, 4}, {2, 3}};
    Rng rng;
    rng_seed(&rng, 6);
    for (int K = 3; K <= 5; K += 2) {
        Conv c = conv_make(&rng, B, Cin, H, W, Cout, K, 1, false);
        int r = K / 2, n = B * Cout * H * W;
        float *x = random_floats(&rng, conv_in_count(&c), 0, 1), *moved = floats(conv_in_count(&c));
        float *fx = floats(n), *f_tx = floats(n), *t_fx = floats(n);
        conv2d_forward(fx, x, c.weight, NULL, B, Cin, H, W, Cout, K, 1, r);
        double rms = l2_norm(fx, n) / sqrt(n);
        for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
            int dy = shifts[s][0], dx = shifts[s][1];
            shift_map(moved, x, B * Cin, H, W, 1, dy, dx, SHIFT_ZERO);
            conv2d_forward(f_tx, moved, c.weight, NULL, B, Cin, H, W, Cout, K, 1, r);
            shift_map(t_fx, fx, B * Cout, H, W, 1, dy, dx, SHIFT_ZERO);
            double band = 0.0; // the largest |f(Tx) − T f(x)| outside the exact region
            for (int i = 0; i < n; i++) {
                int y = i / W % H, x0 = i % W;
                if (y >= dy && y <= H - r - 1 && x0 >= dx && x0 <= W - r - 1) continue;
                band = fmax(band, fabs(f_tx[i] - t_fx[i]));
                f_tx[i] = t_fx[i] = 0.0f; // left out of the exact comparison
            }
            char name[64];
            snprintf(name, sizeof name, "%dx%d, shift (%d,%d), inside", K, K, dy, dx);
            expect_floats_equal(name, f_tx, t_fx, n, 0);
            cr_log_info("%dx%d, shift (%d,%d): largest difference in the band %.2g of the rms %.2g",
                        K, K, dy, dx, band, rms);
            cr_expect(band > 0.5 * rms,
                      "%dx%d, shift (%d,%d): the band differs by only %g (rms %g)", K, K, dy, dx,
                      band, rms);
        }
    }
}

// The smallest ‖f(T x) − T' f(x)‖ / ‖f(x)‖ over the moves T' of the output
// grid nearest to half of (dy,dx): (dy/2 rounded down or up, dx/2 likewise).
static double nearest_move_error(const Conv *c, const float *f_tx, const float *fx, int dy,
                                 int dx) {
    size_t n = conv_out_count(c);
    float *moved = floats(n);
    double best = INFINITY;
    int ys[2] = {div_down(dy, 2), div_up(dy, 2)}, xs[2] = {div_down(dx, 2), div_up(dx, 2)};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            shift_map(moved, fx, c->B * c->Cout, conv_ho(c), conv_wo(c), 1, ys[i], xs[j],
                      SHIFT_CIRCULAR);
            best = fmin(best, relative_error(f_tx, moved, n));
        }
    return best;
}

// Stride 2 on 8x8 (circular, pad K/2: 4x4 out): a shift by an even s comes
// out as a shift by s/2, bit for bit; an odd one (the sampling grid moved by
// half a cell) is far from both moves by s/2 rounded down or up.
Test(equivariance, stride_2_passes_only_even_shifts) {
    enum { B = 2, Cin = 2, S = 8, Cout = 3 };
    static const int even[][2] = {{2, 0}, {0, -4}, {6, 2}, {-2, 10}, {16, -8}};
    static const int odd[][2] = {{0, 1}, {1, 0}, {0, -1}, {3, 0}, {1, 1}, {2, 5}};
    Rng rng;
    rng_seed(&rng, 7);
    for (int K = 3; K <= 5; K += 2) {
        Conv c = conv_make(&rng, B, Cin, S, S, Cout, K, 2, K == 3);
        cr_assert_eq(conv_ho(&c), S / 2);
        size_t n = conv_out_count(&c);
        float *x = random_floats(&rng, conv_in_count(&c), 0, 1);
        float *fx = floats(n), *f_tx = floats(n), *t_fx = floats(n);
        conv_circular(&c, fx, x);
        for (size_t s = 0; s < sizeof even / sizeof even[0]; s++) {
            int dy = even[s][0], dx = even[s][1];
            conv_of_shifted(&c, f_tx, x, dy, dx);
            shift_map(t_fx, fx, B * Cout, S / 2, S / 2, 1, dy / 2, dx / 2, SHIFT_CIRCULAR);
            char name[64];
            snprintf(name, sizeof name, "%dx%d stride 2, shift (%d,%d)", K, K, dy, dx);
            expect_floats_equal(name, f_tx, t_fx, n, 0);
        }
        for (size_t s = 0; s < sizeof odd / sizeof odd[0]; s++) {
            int dy = odd[s][0], dx = odd[s][1];
            conv_of_shifted(&c, f_tx, x, dy, dx);
            double error = nearest_move_error(&c, f_tx, fx, dy, dx);
            cr_log_info("%dx%d stride 2, shift (%d,%d): error %.3f", K, K, dy, dx, error);
            cr_expect(error > 0.3, "%dx%d stride 2, shift (%d,%d): error only %g against a move", K,
                      K, dy, dx, error);
        }
    }
}

// Averaging each channel over the image after a circular convolution forgets
// where things were: the means of f(T x) are those of f(x), to float rounding
// (the same values summed in another order), while f(T x) itself moved.
Test(equivariance, global_average_pooling_after_a_circular_conv_is_invariant) {
    enum { B = 2, Cin = 2, H = 9, W = 7, Cout = 4 };
    static const int shifts[][2] = {{1, 0}, {0, 3}, {-2, 5}, {4, -1}};
    Rng rng;
    rng_seed(&rng, 8);
    Conv c = conv_make(&rng, B, Cin, H, W, Cout, 3, 1, true);
    size_t n = conv_out_count(&c);
    float *x = floats(conv_in_count(&c)), *fx = floats(n), *f_tx = floats(n);
    float *pooled = floats(B * Cout), *pooled_tx = floats(B * Cout);
    rng_fill_uniform(&rng, x, (int)conv_in_count(&c), 0, 1);
    conv_circular(&c, fx, x);
    global_avgpool_forward(pooled, fx, B, Cout, H, W);
    double scale = 0.0;
    for (int i = 0; i < B * Cout; i++) scale = fmax(scale, fabs(pooled[i]));
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        int dy = shifts[s][0], dx = shifts[s][1];
        conv_of_shifted(&c, f_tx, x, dy, dx);
        global_avgpool_forward(pooled_tx, f_tx, B, Cout, H, W);
        char name[64];
        snprintf(name, sizeof name, "pooled, shift (%d,%d)", dy, dx);
        cr_log_info("%s: error %.2g", name, relative_error(pooled_tx, pooled, B * Cout));
        expect_floats_close(name, pooled_tx, pooled, B * Cout, 1e-6 * scale, 0);
        cr_expect(relative_error(f_tx, fx, n) > 0.1, "shift (%d,%d): f(Tx) = f(x)?", dy, dx);
    }
}

// ---- the ViT -----------------------------------------------------------------------------

// 16x16 images of 2 channels, P 4: a 4x4 grid of patches (N 16, T 17); C 16,
// 2 heads, MLP 32, 2 blocks; the paper's initialisation.
enum { S = 16, P = 4, G = S / P, N = G * G, CIN = 2, C = 16, VB = 2 };

static void vit_make(Rng *rng) {
    VitConfig cfg = {.image_size = S,
                     .patch_size = P,
                     .in_channels = CIN,
                     .hidden_dim = C,
                     .mlp_dim = 32,
                     .num_layers = 2,
                     .num_heads = 2,
                     .num_classes = 3};
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.0f, VB);
    vit_init(&vit, rng);
}

// The patch tokens (VB,N,C) of the encoder's output (VB,T,C): token 0, the
// class token, left out.
static void patch_tokens(float *out, const float *tokens) {
    for (int b = 0; b < VB; b++)
        memcpy(out + (size_t)b * N * C, tokens + ((size_t)b * (N + 1) + 1) * C,
               sizeof(float) * N * C);
}

// The patch embedding (VB,N,C) of images (VB,CIN,S,S) shifted circularly by (dy,dx).
static void embed_shifted(float *out, const float *images, int dy, int dx) {
    float *moved = floats((size_t)VB * CIN * S * S);
    shift_map(moved, images, VB * CIN, S, S, 1, dy, dx, SHIFT_CIRCULAR);
    vit_forward(&vit, moved, NULL, VB, 0.0f, false);
    memcpy(out, vit.a.patch_emb, sizeof(float) * VB * N * C);
}

// ‖f(T x) − T' f(x)‖ / ‖f(x)‖ for tokens (VB,G,G,C) and T' a move of the grid by (gy,gx).
static double token_move_error(const float *f_tx, const float *fx, int gy, int gx) {
    float *moved = floats((size_t)VB * N * C);
    shift_map(moved, fx, VB, G, G, C, gy, gx, SHIFT_CIRCULAR);
    return relative_error(f_tx, moved, (size_t)VB * N * C);
}

// A shift by whole patches moves every token whole cells of the grid (the
// same products; the tolerance allows for them summed in another order, but
// measured the tokens move bit for bit); a shift by pixels that are not a
// whole patch cuts every patch anew, and its tokens are none of the nearest
// moves': measured, 1.4 of the tokens' size from each.
Test(equivariance, vit_patch_embedding_moves_only_with_whole_patches) {
    static const int whole[][2] = {{0, P}, {P, 0}, {-P, 2 * P}, {3 * P, -P}};
    static const int pixel[][2] = {{0, 1}, {1, 0}, {0, -1}, {1, 1}, {2, 3}};
    Rng rng;
    rng_seed(&rng, 9);
    vit_make(&rng);
    size_t n = (size_t)VB * N * C;
    float *x = random_floats(&rng, (size_t)VB * CIN * S * S, 0, 1);
    float *fx = floats(n), *f_tx = floats(n);
    embed_shifted(fx, x, 0, 0);
    for (size_t s = 0; s < sizeof whole / sizeof whole[0]; s++) {
        int dy = whole[s][0], dx = whole[s][1];
        embed_shifted(f_tx, x, dy, dx);
        double error = token_move_error(f_tx, fx, dy / P, dx / P);
        cr_log_info("shift (%d,%d): error %.2g", dy, dx, error);
        cr_expect(error <= 1e-6, "shift (%d,%d): error %g against the tokens moved (%d,%d)", dy, dx,
                  error, dy / P, dx / P);
    }
    for (size_t s = 0; s < sizeof pixel / sizeof pixel[0]; s++) {
        int dy = pixel[s][0], dx = pixel[s][1];
        embed_shifted(f_tx, x, dy, dx);
        for (int gy = div_down(dy, P); gy <= div_up(dy, P); gy++)
            for (int gx = div_down(dx, P); gx <= div_up(dx, P); gx++) {
                double error = token_move_error(f_tx, fx, gy, gx);
                cr_log_info("shift (%d,%d) against a move (%d,%d): error %.3f", dy, dx, gy, gx,
                            error);
                cr_expect(error > 0.05, "shift (%d,%d): error only %g against the move (%d,%d)", dy,
                          dx, error, gy, gx);
            }
    }
}

// The encoder's output (after its last LayerNorm) for images shifted by (dy,dx):
// patch tokens (VB,N,C) and class tokens (VB,C).
static void encode_shifted(float *patches, float *cls, const float *images, int dy, int dx) {
    float *moved = floats((size_t)VB * CIN * S * S);
    shift_map(moved, images, VB * CIN, S, S, 1, dy, dx, SHIFT_CIRCULAR);
    vit_forward(&vit, moved, NULL, VB, 0.0f, false);
    patch_tokens(patches, vit.a.out);
    for (int b = 0; b < VB; b++)
        memcpy(cls + (size_t)b * C, vit.a.out + (size_t)b * (N + 1) * C, sizeof(float) * C);
}

// The largest error of the patch tokens against their move by (dy/P, dx/P),
// and of the class tokens against the unshifted ones, over the shifts by
// whole patches.
static void encoder_errors(const float *images, double *tokens, double *cls) {
    static const int whole[][2] = {{0, P}, {P, -P}, {2 * P, 3 * P}};
    size_t n = (size_t)VB * N * C;
    float *fx = floats(n), *f_tx = floats(n), *cls_x = floats(VB * C), *cls_tx = floats(VB * C);
    encode_shifted(fx, cls_x, images, 0, 0);
    *tokens = *cls = 0.0;
    for (size_t s = 0; s < sizeof whole / sizeof whole[0]; s++) {
        int dy = whole[s][0], dx = whole[s][1];
        encode_shifted(f_tx, cls_tx, images, dy, dx);
        *tokens = fmax(*tokens, token_move_error(f_tx, fx, dy / P, dx / P));
        *cls = fmax(*cls, relative_error(cls_tx, cls_x, VB * C));
    }
}

// Attention treats its tokens as a set: with the position embeddings zero, a
// shift by whole patches permutes the patch tokens through every block (to
// float rounding: sums over the tokens in another order; measured 2e-7) and
// leaves the class token as it was. The position embeddings tie each token to
// its place, and the same shifts then change what comes out. Measured: by 3%
// (patch tokens) and 2.4% (class token) with the initialisation's (std 0.02,
// against patch embeddings of size about 1 here), still a hundred thousand
// times the rounding; by 55% and 13% with the fixed 2D sine-cosine ones, as
// large as the embeddings.
Test(equivariance, vit_encoder_moves_with_the_image_only_without_positions) {
    Rng rng;
    rng_seed(&rng, 10);
    vit_make(&rng);
    float *x = random_floats(&rng, (size_t)VB * CIN * S * S, 0, 1);
    size_t pos_bytes = sizeof(float) * (N + 1) * C;
    float *pos = floats((N + 1) * C);
    memcpy(pos, vit.w.pos, pos_bytes);
    memset(vit.w.pos, 0, pos_bytes);
    double tokens, cls;
    encoder_errors(x, &tokens, &cls);
    cr_log_info("no positions: patch tokens %.2g, class token %.2g", tokens, cls);
    cr_expect(tokens <= 1e-5, "no positions: patch tokens %g from their move", tokens);
    cr_expect(cls <= 1e-5, "no positions: class token %g from the unshifted one", cls);

    memcpy(vit.w.pos, pos, pos_bytes);
    encoder_errors(x, &tokens, &cls);
    cr_log_info("initial positions: patch tokens %.2g, class token %.2g", tokens, cls);
    cr_expect(tokens > 0.01, "initial positions: patch tokens only %g from their move", tokens);
    cr_expect(cls > 0.01, "initial positions: class token only %g from the unshifted one", cls);

    memset(vit.w.pos, 0, sizeof(float) * C); // the class token's row
    posemb_sincos_2d(vit.w.pos + C, G, G, C);
    encoder_errors(x, &tokens, &cls);
    cr_log_info("sine-cosine positions: patch tokens %.2g, class token %.2g", tokens, cls);
    cr_expect(tokens > 0.05, "sine-cosine positions: patch tokens only %g from their move", tokens);
    cr_expect(cls > 0.05, "sine-cosine positions: class token only %g from the unshifted one", cls);
}
