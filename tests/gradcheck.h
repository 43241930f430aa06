// gradcheck.h — a backward pass held to central finite differences of its own
// forward pass, shared by the suites of chapter 06 on (test_06_backward.c
// explains the tolerance).
//
// The caller gives the scalar loss L (run the forward pass, return L in
// double: for a layer with output out, L = Σ out ⊙ R with R a fixed random
// tensor, so dout = R) and a backward pass that puts dL/dx into each listed
// gradient buffer. Every listed element is nudged by ±h in float and the
// central difference (L(x + h) - L(x - h)) / 2h, taken at h and at h/2 and
// combined (Richardson: (4 D(h/2) - D(h)) / 3, which cancels the h^2 error),
// is held to the analytic gradient. Then a second backward pass must add as
// much again (the convention of linear.h), or give the same for one that
// writes.
//
// The tolerance (test_06_backward.c measures and explains it): h = 1e-2,
// relative when |x| > 1, and an element passes when
//     |analytic - numeric| <= GRADCHECK_TOL * (the tensor's largest |gradient|)
// (for a window of a tensor, gradcheck_window: the scale the caller gives, or
// the window's largest if that is larger)
// GRADCHECK_TOL = 5e-3. Each suite says what it measured for its layers.
//
// A loss with kinks (ReLU at 0, a tie in max pooling) has no derivative
// there: the inputs must keep every element more than 2h from one. Where that
// cannot be arranged (a whole ResNet has thousands of ReLUs, and a step in
// one of its first weights moves them all), a suite sets .kinks: an element
// then also passes when its analytic gradient matches one of the one-sided
// differences (L(x + h) - L(x)) / h and (L(x) - L(x - h)) / h, the side that
// crossed no kink; each element that passes only so is counted in the log.
//
//   GradCheck gc = {.loss = my_loss, .backward = my_backward, .accumulates = true, .ctx = &c};
//   gradcheck_tensor(&gc, "conv.weight", c.weight, c.dweight, n);
//   gradcheck_run(&gc);
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"

#ifndef GRADCHECK_STEP // a suite through many ReLUs may take a smaller h (fewer kinks crossed)
#define GRADCHECK_STEP 1e-2f // h, relative to |x| when |x| > 1
#endif
#ifndef GRADCHECK_TOL // a suite may widen it, saying why
#define GRADCHECK_TOL  5e-3  // of the tensor's largest |gradient|
#endif
#define GRADCHECK_MAX  48    // tensors in one check (a tiny ViT has 32)

typedef struct {
    const char *name;
    float *value; // (n) perturbed in place
    float *grad;  // (n) the analytic gradient, filled by backward
    size_t n;
    double scale; // the tolerance's scale is at least this (gradcheck_window)
} GradChecked;

typedef struct GradCheck GradCheck;
struct GradCheck {
    double (*loss)(GradCheck *);   // runs the forward pass, returns L
    void (*backward)(GradCheck *); // the gradient of L into every grad
    bool accumulates;              // backward adds to grad (else it writes it)
    bool kinks;                    // one-sided differences pass too (see above)
    void *ctx;                     // what loss and backward work on
    GradChecked checked[GRADCHECK_MAX];
    int count;
    double worst;    // after gradcheck_run: the largest error of any tensor, of its scale
    size_t at_kinks; // and how many elements passed by a one-sided difference
};

static inline void gradcheck_tensor(GradCheck *gc, const char *name, float *value, float *grad,
                                    size_t n) {
    cr_assert_lt(gc->count, GRADCHECK_MAX);
    gc->checked[gc->count++] = (GradChecked){name, value, grad, n, 0.0};
}

// A window of n elements of a larger tensor, held to the scale of the whole
// tensor's largest |gradient| (the caller's), not to the window's own: a
// window of small gradients is then not held to its float noise.
static inline void gradcheck_window(GradCheck *gc, const char *name, float *value, float *grad,
                                    size_t n, double scale) {
    cr_assert_lt(gc->count, GRADCHECK_MAX);
    gc->checked[gc->count++] = (GradChecked){name, value, grad, n, scale};
}

// Σ a ⊙ b in double: the loss of a layer whose output is a and dout is b.
static inline double gradcheck_dot(const float *a, const float *b, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

// L with element i moved by step; *taken is the step as taken in float. The
// element is put back.
static inline double gradcheck_moved(GradCheck *gc, const GradChecked *c, size_t i, float step,
                                     double *taken) {
    float x = c->value[i];
    c->value[i] = x + step;
    *taken = (double)c->value[i] - x;
    double loss = gc->loss(gc);
    c->value[i] = x;
    return loss;
}

// The central difference of L in element i with step h, over the step taken
// in float; with one_sided (2) also (L(x + h) - base) / h and (base - L(x - h)) / h,
// base being L(x).
static inline double gradcheck_central(GradCheck *gc, const GradChecked *c, size_t i, float h,
                                       double base, double *one_sided) {
    double up, down;
    double loss_up = gradcheck_moved(gc, c, i, h, &up),
           loss_down = gradcheck_moved(gc, c, i, -h, &down);
    if (one_sided != NULL) {
        one_sided[0] = (loss_up - base) / up;
        one_sided[1] = (base - loss_down) / -down;
    }
    return (loss_up - loss_down) / (up - down);
}

// How far analytic a is off the numeric gradient: the central difference's
// (Richardson's) error, or with kinks also the nearer one-sided difference's.
static inline double gradcheck_error(double a, double central, const double *one_sided,
                                     bool kinks) {
    double error = fabs(a - central);
    if (kinks) error = fmin(error, fmin(fabs(a - one_sided[0]), fabs(a - one_sided[1])));
    return error;
}

// Fails the test, naming the tensor, if analytic (n) and the numeric gradient differ.
static inline void gradcheck_one(GradCheck *gc, const GradChecked *c, const float *analytic) {
    double own = 0.0, worst = 0.0, *numeric = malloc(3 * c->n * sizeof(double));
    cr_assert_not_null(numeric);
    double *one_sided = numeric + c->n; // (n,2) right and left, with kinks
    double base = gc->kinks ? gc->loss(gc) : 0.0;
    for (size_t i = 0; i < c->n; i++) {
        float h = GRADCHECK_STEP * fmaxf(1.0f, fabsf(c->value[i]));
        double coarse = gradcheck_central(gc, c, i, h, base, gc->kinks ? &one_sided[2 * i] : NULL),
               fine = gradcheck_central(gc, c, i, 0.5f * h, base, NULL);
        numeric[i] = (4.0 * fine - coarse) / 3.0;
        own = fmax(own, fmax(fabs(analytic[i]), fabs(numeric[i])));
    }
    double scale = fmax(own, c->scale);
    size_t worst_at = 0, bad = 0, at_kinks = 0;
    for (size_t i = 0; i < c->n; i++) {
        double error = gradcheck_error(analytic[i], numeric[i], &one_sided[2 * i], gc->kinks);
        bool ok = error <= GRADCHECK_TOL * scale;
        bad += !ok;
        at_kinks += ok && !(fabs(analytic[i] - numeric[i]) <= GRADCHECK_TOL * scale);
        if (error > worst) {
            worst = error;
            worst_at = i;
        }
    }
    double relative = worst / fmax(scale, 1e-30);
    gc->worst = fmax(gc->worst, relative);
    cr_log_info("%s: largest error %.2g of the scale %.3g", c->name, relative, scale);
    if (at_kinks > 0)
        cr_log_info("%s: %zu of %zu pass by a one-sided difference (a kink crossed)", c->name,
                    at_kinks, c->n);
    gc->at_kinks += at_kinks;
    cr_expect(own > 0.0, "%s: every gradient is zero; the check would prove nothing", c->name);
    cr_expect(bad == 0,
              "%s: %zu of %zu gradients differ from finite differences; largest at [%zu]: "
              "analytic %.6g, numeric %.6g (scale %.3g)",
              c->name, bad, c->n, worst_at, analytic[worst_at], numeric[worst_at], scale);
    free(numeric);
}

// The whole check: analytic against numeric for every listed tensor, then a
// second backward pass adds as much again (or, for one that writes, the same).
static inline void gradcheck_run(GradCheck *gc) {
    float *first[GRADCHECK_MAX];
    for (int t = 0; t < gc->count; t++) {
        memset(gc->checked[t].grad, 0, gc->checked[t].n * sizeof(float));
        first[t] = malloc(gc->checked[t].n * sizeof(float));
        cr_assert_not_null(first[t]);
    }
    gc->loss(gc);
    gc->backward(gc);
    for (int t = 0; t < gc->count; t++)
        memcpy(first[t], gc->checked[t].grad, gc->checked[t].n * sizeof(float));
    for (int t = 0; t < gc->count; t++) gradcheck_one(gc, &gc->checked[t], first[t]);
    gc->loss(gc); // the activations of the unperturbed values again
    gc->backward(gc);
    for (int t = 0; t < gc->count; t++) {
        const GradChecked *c = &gc->checked[t];
        double scale = 0.0; // float rounding of the second sum: a few 1e-7 of the largest
        for (size_t i = 0; i < c->n; i++) {
            first[t][i] *= gc->accumulates ? 2.0f : 1.0f;
            scale = fmax(scale, fabs(first[t][i]));
        }
        ArrayDiff d = diff_floats(c->grad, first[t], (long)c->n, 1e-5 * scale, 0.0);
        cr_expect(d.bad == 0, "%s: a second backward pass should %s (largest difference %.3g)",
                  c->name, gc->accumulates ? "double the gradient" : "give it again", d.max_diff);
        free(first[t]);
    }
}

#endif
