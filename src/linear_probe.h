// linear_probe.h — the paper's few-shot linear evaluation: a frozen model's
// features of a few labelled images per class, and a linear map from them to
// the classes found in closed form by regularised least squares, then tested
// on held-out images. As the paper's code does it (big_vision's
// evaluators/fewshot_lsr.py):
//
//   1. standardise each feature with the training set's mean and standard
//      deviation (population, over the n images) plus 1e-5;
//   2. append a constant feature LINEAR_PROBE_BIAS = 100 for the bias: so
//      large that the penalty on its weight is almost nothing;
//   3. targets in {−1, 1}^K: +1 for the image's class, −1 for the others;
//   4. one L2 strength λ: W (D+1,K) solves  (XᵀX + λI) W = XᵀY,
//      X (n,D+1) the standardised features with the bias column, Y (n,K);
//   5. predict the class with the largest score x W.
//
// The paper's code diagonalises XᵀX (or XXᵀ when n < D+1) once to try many
// λ; here one λ is solved directly, by a Cholesky factorisation (LAPACK's
// dposv through LAPACKE), in double: XᵀX + λI is symmetric and positive
// definite for any λ > 0, even with fewer images than features. With fewer
// images than features (a few shots of raw pixels: 250 images, 785
// features) the same W comes from the smaller system of the images' side,
// W = Xᵀ (XXᵀ + λI)⁻¹ Y.
#ifndef LINEAR_PROBE_H
#define LINEAR_PROBE_H

#include <stdbool.h>
#include "error.h"

#define LINEAR_PROBE_BIAS 100.0
#define LINEAR_PROBE_STD_EPS 1e-5

typedef struct {
    int D, K;     // features, classes
    float *mean;  // (D) the training features' mean
    float *std;   // (D) their standard deviation + LINEAR_PROBE_STD_EPS
    float *W;     // (D+1,K) weights on the standardised features, last row the bias feature's
} LinearProbe;

// W (D,K) solving the regularised normal equations (XᵀX + l2·I) W = XᵀY, for
// X (n,D) and Y (n,K); in double; through XXᵀ when n < D and l2 > 0. l2 ≥ 0;
// false with err set when LAPACK finds the matrix not positive definite
// (l2 = 0 and X of rank below D).
bool ridge_solve(float *W, const float *X, const float *Y, int n, int D, int K, double l2,
                 Error *err);

// The probe of features (n,D) with labels (n) in 0..K-1, L2 strength l2 > 0.
// Allocates p's arrays (linear_probe_free). False with err set when LAPACK fails.
bool linear_probe_fit(LinearProbe *p, const float *features, const int *labels, int n, int D,
                      int K, double l2, Error *err);
void linear_probe_free(LinearProbe *p);

// scores (n,K) = [standardised features, bias] · W, for features (n,D).
void linear_probe_scores(float *scores, const LinearProbe *p, const float *features, int n);
// predicted (n): the class of the largest score (the first when tied).
void linear_probe_predict(int *predicted, const LinearProbe *p, const float *features, int n);
// The share of features (n,D) whose predicted class is their label, in [0, 1].
double linear_probe_accuracy(const LinearProbe *p, const float *features, const int *labels, int n);

#endif
