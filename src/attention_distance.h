// attention_distance.h — how far a head looks: the paper's mean attention
// distance (its Figure 7, right; appendix D.7). The patches lie on a g x g grid
// whose centres are P pixels apart, so patches i and j are
//     dist(i,j) = P · √((row_i − row_j)² + (col_i − col_j)²)   pixels apart.
// For one head, each query patch i looks at the other patches with its
// attention weights; the distance it integrates over is their weighted mean
//     d_i = Σ_j a_ij dist(i,j) / Σ_j a_ij        (j over the patches only),
// and the head's mean attention distance is the mean of d_i over the query
// patches (and, in chapter 09, over 1,000 test images). The class token has no
// place on the grid: as a query it is left out, and the weight a query gives it
// is left out of the sum (hence the division by Σ_j a_ij, which is then < 1).
#ifndef ATTENTION_DISTANCE_H
#define ATTENTION_DISTANCE_H

// The distance in pixels between the centres of patches i and j of a g x g grid
// (row-major), centres P pixels apart.
double patch_distance(int i, int j, int g, double P);

// One head's mean attention distance in pixels, from its weights att (T,T)
// (row = query, each row ≥ 0), T = first + g·g: the first `first` tokens (1: the
// class token; 0: none) have no place on the grid.
double attention_distance(const float *att, int T, int first, int g, double P);

// For every head: sum (NH) += the attention distance of each of B images,
// from att (B,NH,T,T) as mha_forward keeps it. Divide by the images summed.
void attention_distance_heads(double *sum, const float *att, int B, int NH, int T, int first, int g,
                              double P);

#endif
