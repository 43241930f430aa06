// pca.h — principal component analysis of a set of vectors: the rows of X
// (n,d), centred on their mean; the eigenvectors of their covariance
//     S = Xcᵀ Xc / (n − 1)   (d,d),  Xc = X − mean
// by decreasing eigenvalue. The eigen-decomposition is LAPACK's dsyevd (a
// symmetric matrix, through LAPACKE), in double. Chapter 09 applies it to the
// rows of the patch embedding, as the paper's Figure 7 (left) does.
//
// An eigenvector's sign is arbitrary (v and −v are both eigenvectors); here each
// component is turned so that its entry of largest magnitude is positive, the
// first such entry when two are equal, so the same input gives the same output.
#ifndef PCA_H
#define PCA_H

#include <stdbool.h>
#include "error.h"

// components (d,d): row k is the k-th principal component (unit length);
// variance (d): the variance along it, decreasing (≥ 0 up to rounding); n ≥ 2.
// Returns false with err set when LAPACK does not converge.
bool pca_fit(float *components, float *variance, const float *X, int n, int d, Error *err);

// The share of the total variance the first k components explain, in [0, 1]
// (0 when the total is 0). variance (d) as pca_fit gives it.
double pca_explained(const float *variance, int d, int k);

#endif
