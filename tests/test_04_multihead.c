// test_04_multihead.c — chapter 04: multi-head self-attention. With one head and
// an identity output projection it is chapter 03's single-head attention; with
// NH heads, head h is single-head attention on its own hs columns of q, k and
// v; its weights are distributions; the batch items stay apart; the
// activations are listed under their names; and a width that the heads do not
// divide is a programmer's error.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "attention.h"
#include "check.h"
#include "linear.h"
#include "mha.h"
#include "rng.h"
#include "tensors.h"

// One multi-head attention layer: random weights, activations for B x T tokens.
typedef struct {
    int B, T, C, NH;
    Tensors params, acts;
    float *in_w, *in_b, *out_w, *out_b; // (3C,C), (3C), (C,C), (C)
    MhaWeights w;
    MhaActivations a;
    float *x, *out; // (B,T,C) each, in acts
} Layer;

static Layer layer_new(int B, int T, int C, int NH, uint64_t seed) {
    Layer l = {.B = B, .T = T, .C = C, .NH = NH};
    tensors_init(&l.params);
    tensors_add(&l.params, &l.in_w, 2, (int[]){3 * C, C}, "in_proj_weight");
    tensors_add(&l.params, &l.in_b, 1, (int[]){3 * C}, "in_proj_bias");
    tensors_add(&l.params, &l.out_w, 2, (int[]){C, C}, "out_proj.weight");
    tensors_add(&l.params, &l.out_b, 1, (int[]){C}, "out_proj.bias");
    tensors_alloc(&l.params);
    tensors_init(&l.acts);
    tensors_add(&l.acts, &l.x, 3, (int[]){B, T, C}, "x");
    mha_activations_add(&l.acts, &l.a, B, T, C, NH, "attn");
    tensors_add(&l.acts, &l.out, 3, (int[]){B, T, C}, "out");
    tensors_alloc(&l.acts);
    Rng rng;
    rng_seed(&rng, seed);
    rng_fill_normal(&rng, l.params.memory, (int)l.params.total, 0.0f, 0.5f);
    rng_fill_normal(&rng, l.x, B * T * C, 0.0f, 1.0f);
    l.w = (MhaWeights){l.in_w, l.in_b, l.out_w, l.out_b};
    return l;
}

static void layer_free(Layer *l) {
    tensors_free(&l->params);
    tensors_free(&l->acts);
}

// The weights of one head, as chapter 03 uses them: rows h*hs.. of Wq, Wk, Wv.
typedef struct {
    float *q, *k, *v, *out, *att; // (T,hs) x4, (T,T)
} SingleHead;

// Chapter 03 on head h of batch item b: three projections, then attention_forward.
static SingleHead single_head(const Layer *l, int b, int h) {
    int T = l->T, C = l->C, hs = C / l->NH;
    SingleHead s = {malloc(sizeof(float) * T * hs), malloc(sizeof(float) * T * hs),
                    malloc(sizeof(float) * T * hs), malloc(sizeof(float) * T * hs),
                    malloc(sizeof(float) * T * T)};
    const float *x = l->x + (size_t)b * T * C;
    float *qkv[3] = {s.q, s.k, s.v};
    for (int p = 0; p < 3; p++) {
        size_t row = (size_t)p * C + h * hs; // first row of this head's block of W and b
        linear_forward(qkv[p], x, l->in_w + row * C, l->in_b + row, T, C, hs);
    }
    attention_forward(s.out, s.att, s.q, s.k, s.v, 1, T, hs);
    return s;
}

static void single_head_free(SingleHead *s) {
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->out);
    free(s->att);
}

Test(multihead, one_head_with_identity_output_is_chapter_03_attention) {
    int T = 6, C = 8;
    Layer l = layer_new(1, T, C, 1, 7);
    memset(l.in_b, 0, sizeof(float) * 3 * C); // zero biases, out_proj = identity
    memset(l.out_w, 0, sizeof(float) * C * C);
    memset(l.out_b, 0, sizeof(float) * C);
    for (int i = 0; i < C; i++) l.out_w[i * C + i] = 1.0f;
    mha_forward(l.out, &l.a, l.x, &l.w, 1, T, C, 1);

    // chapter 03: q = x Wq^T, k = x Wk^T, v = x Wv^T, with [Wq; Wk; Wv] = in_proj_weight
    float q[6 * 8], k[6 * 8], v[6 * 8], att[6 * 6], out[6 * 8];
    linear_forward(q, l.x, l.in_w, NULL, T, C, C);
    linear_forward(k, l.x, l.in_w + C * C, NULL, T, C, C);
    linear_forward(v, l.x, l.in_w + 2 * C * C, NULL, T, C, C);
    attention_forward(out, att, q, k, v, 1, T, C);
    expect_floats_close("weights", l.a.att, att, T * T, 1e-6, 1e-5);
    expect_floats_close("output", l.out, out, T * C, 1e-5, 1e-5);
    layer_free(&l);
}

Test(multihead, every_head_is_single_head_attention_on_its_columns) {
    int B = 2, T = 5, C = 12, NH = 3, hs = C / NH;
    Layer l = layer_new(B, T, C, NH, 8);
    mha_forward(l.out, &l.a, l.x, &l.w, B, T, C, NH);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            SingleHead s = single_head(&l, b, h);
            size_t bh = (size_t)b * NH + h;
            expect_floats_close("head's weights", l.a.att + bh * T * T, s.att, T * T, 1e-6, 1e-5);
            expect_floats_close("head's output", l.a.heads + bh * T * hs, s.out, T * hs, 1e-5,
                                1e-5);
            for (int t = 0; t < T; t++) // and its place in the concatenation
                expect_floats_equal("concat columns", l.a.concat + ((size_t)b * T + t) * C + h * hs,
                                    s.out + t * hs, hs, 1e-5);
            single_head_free(&s);
        }
    // out = concat · out_proj^T + bias
    float *want = malloc(sizeof(float) * B * T * C);
    linear_forward(want, l.a.concat, l.out_w, l.out_b, B * T, C, C);
    expect_floats_equal("output projection", l.out, want, B * T * C, 0);
    free(want);
    layer_free(&l);
}

Test(multihead, every_heads_weights_are_distributions) {
    int B = 2, T = 17, C = 64, NH = 8;
    Layer l = layer_new(B, T, C, NH, 9);
    mha_forward(l.out, &l.a, l.x, &l.w, B, T, C, NH);
    for (int r = 0; r < B * NH * T; r++) {
        double sum = 0.0;
        for (int j = 0; j < T; j++) {
            float a = l.a.att[(size_t)r * T + j];
            cr_assert(a >= 0.0f && a <= 1.0f, "weight %g out of [0,1]", a);
            sum += a;
        }
        cr_assert_float_eq(sum, 1.0, 1e-5, "row %d (batch %d, head %d, query %d) sums to %g", r,
                           r / (NH * T), r / T % NH, r % T, sum);
    }
    layer_free(&l);
}

Test(multihead, batch_items_do_not_see_each_other) {
    int B = 3, T = 4, C = 8, NH = 2;
    Layer all = layer_new(B, T, C, NH, 10);
    Layer one = layer_new(1, T, C, NH, 10); // the same weights
    mha_forward(all.out, &all.a, all.x, &all.w, B, T, C, NH);
    memcpy(one.x, all.x + 2 * T * C, sizeof(float) * T * C); // item 2 alone
    mha_forward(one.out, &one.a, one.x, &one.w, 1, T, C, NH);
    expect_floats_equal("item 2 of the batch, alone", one.out, all.out + 2 * T * C, T * C, 1e-6);
    layer_free(&all);
    layer_free(&one);
}

Test(multihead, activations_are_listed_with_their_names_and_shapes) {
    Tensors t;
    MhaActivations a;
    tensors_init(&t);
    mha_activations_add(&t, &a, 2, 5, 12, 3, "layer_0.attn");
    const struct {
        const char *name;
        int ndim, shape[4];
    } want[] = {
        {"layer_0.attn.qkv", 3, {2, 5, 36}},    {"layer_0.attn.q", 4, {2, 3, 5, 4}},
        {"layer_0.attn.k", 4, {2, 3, 5, 4}},    {"layer_0.attn.v", 4, {2, 3, 5, 4}},
        {"layer_0.attn.att", 4, {2, 3, 5, 5}},  {"layer_0.attn.heads", 4, {2, 3, 5, 4}},
        {"layer_0.attn.concat", 3, {2, 5, 12}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const TensorEntry *e = tensors_find(&t, want[i].name);
        cr_assert_not_null(e, "no tensor named %s", want[i].name);
        cr_assert_eq(e->ndim, want[i].ndim, "%s has %d dimensions", want[i].name, e->ndim);
        expect_ints_equal(want[i].name, e->shape, want[i].shape, e->ndim);
    }
    cr_assert_eq(t.count, 7);
    tensors_alloc(&t);
    cr_assert(a.qkv != NULL && a.att != NULL && a.concat != NULL);
    tensors_free(&t);
}

Test(multihead, width_not_divisible_by_the_heads_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    float x[6] = {0}, out[6], buffer[64];
    MhaActivations a = {buffer, buffer, buffer, buffer, buffer, buffer, buffer};
    MhaWeights w = {buffer, buffer, buffer, buffer};
    mha_forward(out, &a, x, &w, 1, 1, 6, 4); // C = 6, NH = 4
}

Test(multihead, listing_activations_for_indivisible_heads_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    Tensors t;
    MhaActivations a;
    tensors_init(&t);
    mha_activations_add(&t, &a, 1, 4, 10, 3, "attn"); // C = 10, NH = 3
}
