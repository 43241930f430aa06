// pca.c — principal components through LAPACK's symmetric eigen-decomposition.
#include "pca.h"

#include <assert.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

// cov (d,d) = Xcᵀ Xc / (n − 1), Xc = X (n,d) minus its column means; in double.
static void covariance(double *cov, const float *X, int n, int d) {
    double *mean = xcalloc((size_t)d, sizeof(double)); // (d)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += X[(size_t)i * d + j];
    for (int j = 0; j < d; j++) mean[j] /= n;
    for (size_t k = 0; k < (size_t)d * d; k++) cov[k] = 0.0;
    for (int i = 0; i < n; i++) {
        const float *x = X + (size_t)i * d;
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
                cov[(size_t)a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]);
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            cov[(size_t)a * d + b] /= n - 1;
            cov[(size_t)b * d + a] = cov[(size_t)a * d + b];
        }
    free(mean);
}

// region: pca
bool pca_fit(float *components, float *variance, const float *X, int n, int d, Error *err) {
    // components (d,d), variance (d), X (n,d)
    assert(n >= 2 && d >= 1);
    double *cov = xmalloc(sizeof(double) * d * d); // (d,d), then its eigenvectors as columns
    double *w = xmalloc(sizeof(double) * d);       // (d) eigenvalues, increasing
    covariance(cov, X, n, d);
    // 1. S = V diag(w) Vᵀ; LAPACK returns w increasing and V's columns in place of S
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, cov, d, w);
    if (info != 0) {
        free(cov), free(w);
        return error_set(err, "PCA: LAPACK's dsyevd failed (info %d) on a %dx%d covariance",
                         (int)info, d, d);
    }
    // 2. component k = column d-1-k of V (decreasing eigenvalue), its largest entry positive
    for (int k = 0; k < d; k++) {
        int col = d - 1 - k, big = 0;
        for (int j = 1; j < d; j++)
            if (fabs(cov[(size_t)j * d + col]) > fabs(cov[(size_t)big * d + col])) big = j;
        double sign = cov[(size_t)big * d + col] < 0.0 ? -1.0 : 1.0;
        for (int j = 0; j < d; j++)
            components[(size_t)k * d + j] = (float)(sign * cov[(size_t)j * d + col]);
        variance[k] = (float)w[col];
    }
    free(cov), free(w);
    return true;
}
// endregion: pca

double pca_explained(const float *variance, int d, int k) {
    double total = 0.0, first = 0.0;
    for (int j = 0; j < d; j++) {
        double v = variance[j] > 0.0f ? variance[j] : 0.0; // rounding may leave -1e-9
        total += v;
        if (j < k) first += v;
    }
    return total > 0.0 ? first / total : 0.0;
}
