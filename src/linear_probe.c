// linear_probe.c — few-shot linear probes: regularised least squares in
// closed form through LAPACK's Cholesky solver.
#include "linear_probe.h"

#include <assert.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

// The system's two sides when there are at least as many images as features:
// A (D,D) = XᵀX + l2·I (its upper triangle) and R (D,K) = XᵀY.
static void normal_equations(double *A, double *R, const float *X, const float *Y, int n, int D,
                             int K, double l2) {
    for (int i = 0; i < n; i++) {
        const float *x = X + (size_t)i * D, *y = Y + (size_t)i * K;
        for (int a = 0; a < D; a++) {
            for (int b = a; b < D; b++) A[(size_t)a * D + b] += (double)x[a] * x[b];
            for (int k = 0; k < K; k++) R[(size_t)a * K + k] += (double)x[a] * y[k];
        }
    }
    for (int a = 0; a < D; a++) A[(size_t)a * D + a] += l2;
}

// The same solution from the images' side when there are fewer images than
// features (n < D), cheaper then: W = Xᵀ (XXᵀ + l2·I)⁻¹ Y, since
// (XᵀX + l2·I) Xᵀ = Xᵀ (XXᵀ + l2·I). A (n,n) = XXᵀ + l2·I (upper triangle), R (n,K) = Y.
static void dual_equations(double *A, double *R, const float *X, const float *Y, int n, int D,
                           int K, double l2) {
    for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++) {
            double dot = 0.0;
            for (int a = 0; a < D; a++) dot += (double)X[(size_t)i * D + a] * X[(size_t)j * D + a];
            A[(size_t)i * n + j] = dot;
        }
        A[(size_t)i * n + i] += l2;
        for (int k = 0; k < K; k++) R[(size_t)i * K + k] = Y[(size_t)i * K + k];
    }
}

// region: ridge
bool ridge_solve(float *W, const float *X, const float *Y, int n, int D, int K, double l2,
                 Error *err) {
    // W (D,K), X (n,D), Y (n,K)
    assert(n >= 1 && D >= 1 && K >= 1 && l2 >= 0.0);
    bool dual = n < D && l2 > 0.0;
    int m = dual ? n : D;                               // the system's size
    double *A = xcalloc((size_t)m * m, sizeof(double)); // (m,m)
    double *R = xcalloc((size_t)m * K, sizeof(double)); // (m,K) the right side, then the solution
    // 1. the system: A symmetric, only its upper triangle is read by dposv
    if (dual)
        dual_equations(A, R, X, Y, n, D, K, l2);
    else
        normal_equations(A, R, X, Y, n, D, K, l2);
    // 2. A = UᵀU (Cholesky), then two triangular solves
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', m, K, A, m, R, K);
    if (info == 0 && !dual)
        for (size_t i = 0; i < (size_t)D * K; i++) W[i] = (float)R[i];
    if (info == 0 && dual) // W = Xᵀ R
        for (int a = 0; a < D; a++)
            for (int k = 0; k < K; k++) {
                double w = 0.0;
                for (int i = 0; i < n; i++)
                    w += (double)X[(size_t)i * D + a] * R[(size_t)i * K + k];
                W[(size_t)a * K + k] = (float)w;
            }
    free(A), free(R);
    if (info != 0)
        return error_set(err,
                         "least squares: LAPACK's dposv failed (info %d): %s + %g·I (%dx%d) is "
                         "not positive definite",
                         (int)info, dual ? "XXᵀ" : "XᵀX", l2, m, m);
    return true;
}
// endregion: ridge

// x (D+1): features f (D) standardised by p, then the bias feature.
static void standardised(float *x, const LinearProbe *p, const float *f) {
    for (int j = 0; j < p->D; j++) x[j] = (f[j] - p->mean[j]) / p->std[j];
    x[p->D] = (float)LINEAR_PROBE_BIAS;
}

// mean (D) and std (D) + eps of features (n,D), in double.
static void feature_moments(float *mean, float *std, const float *features, int n, int D) {
    for (int j = 0; j < D; j++) {
        double m = 0.0, v = 0.0;
        for (int i = 0; i < n; i++) m += features[(size_t)i * D + j];
        m /= n;
        for (int i = 0; i < n; i++) {
            double d = features[(size_t)i * D + j] - m;
            v += d * d;
        }
        mean[j] = (float)m;
        std[j] = (float)(sqrt(v / n) + LINEAR_PROBE_STD_EPS);
    }
}

bool linear_probe_fit(LinearProbe *p, const float *features, const int *labels, int n, int D, int K,
                      double l2, Error *err) {
    // features (n,D), labels (n)
    assert(n >= 1 && D >= 1 && K >= 2 && l2 > 0.0);
    *p = (LinearProbe){.D = D, .K = K};
    p->mean = xmalloc(sizeof(float) * D);
    p->std = xmalloc(sizeof(float) * D);
    p->W = xmalloc(sizeof(float) * (D + 1) * K);
    float *X = xmalloc(sizeof(float) * n * (D + 1)); // (n,D+1)
    float *Y = xmalloc(sizeof(float) * n * K);       // (n,K)
    // 1-2. standardised features and the bias column
    feature_moments(p->mean, p->std, features, n, D);
    for (int i = 0; i < n; i++) standardised(X + (size_t)i * (D + 1), p, features + (size_t)i * D);
    // 3. targets in {-1, 1}^K
    for (int i = 0; i < n; i++) {
        assert(labels[i] >= 0 && labels[i] < K);
        for (int k = 0; k < K; k++) Y[(size_t)i * K + k] = k == labels[i] ? 1.0f : -1.0f;
    }
    // 4. (XᵀX + λI) W = XᵀY
    bool ok = ridge_solve(p->W, X, Y, n, D + 1, K, l2, err);
    free(X), free(Y);
    if (!ok) linear_probe_free(p);
    return ok;
}

void linear_probe_free(LinearProbe *p) {
    free(p->mean), free(p->std), free(p->W);
    *p = (LinearProbe){0};
}

void linear_probe_scores(float *scores, const LinearProbe *p, const float *features, int n) {
    // scores (n,K), features (n,D)
    int D = p->D, K = p->K;
    float *x = xmalloc(sizeof(float) * (D + 1)); // (D+1)
    for (int i = 0; i < n; i++) {
        standardised(x, p, features + (size_t)i * D);
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j <= D; j++) s += (double)x[j] * p->W[(size_t)j * K + k];
            scores[(size_t)i * K + k] = (float)s;
        }
    }
    free(x);
}

void linear_probe_predict(int *predicted, const LinearProbe *p, const float *features, int n) {
    int K = p->K;
    float *s = xmalloc(sizeof(float) * K); // (K) one image's scores
    for (int i = 0; i < n; i++) {
        linear_probe_scores(s, p, features + (size_t)i * p->D, 1);
        int best = 0;
        for (int k = 1; k < K; k++)
            if (s[k] > s[best]) best = k;
        predicted[i] = best;
    }
    free(s);
}

double linear_probe_accuracy(const LinearProbe *p, const float *features, const int *labels,
                             int n) {
    int *predicted = xmalloc(sizeof(int) * (n > 0 ? n : 1)), right = 0;
    linear_probe_predict(predicted, p, features, n);
    for (int i = 0; i < n; i++) right += predicted[i] == labels[i];
    free(predicted);
    return n > 0 ? (double)right / n : 0.0;
}
