// pos_interpolate.h — the position embeddings of a ViT carried to another
// grid, for fine-tuning at a higher resolution (the paper's section 3.2): the
// patch size stays, so a larger image has more patches, and the learned
// embedding of each grid position is resampled in 2D from the old g×g grid to
// the new n×n one "according to its location in the original image". The
// class token's embedding (row 0) is kept as it is.
//
// It is the method of torchvision's interpolate_embeddings (0.14, Debian's
// python3-torchvision): torch.nn.functional.interpolate with
// mode="bicubic" and align_corners=True on the grid viewed as (1,C,g,g), and
// nothing done when the grid does not change. That is:
//
//   - align_corners=True: the four corners of the new grid sit on the old
//     grid's corners; output row i samples the old grid at
//         y = i · (g − 1)/(n − 1)      (y = 0 for every i when n = 1)
//     and the same for columns;
//   - bicubic: Keys' cubic convolution with a = −0.75 (PyTorch's, not the
//     a = −0.5 of some other libraries), 4×4 neighbours, its weights for the
//     fraction t = y − ⌊y⌋
//         w0 = k(1 + t), w1 = k(t), w2 = k(1 − t), w3 = k(2 − t)
//         k(x) = (a + 2)|x|³ − (a + 3)|x|² + 1        for |x| ≤ 1
//         k(x) = a|x|³ − 5a|x|² + 8a|x| − 4a          for 1 < |x| < 2
//   - the border: a neighbour outside the grid takes the nearest edge row or
//     column (the indices clamped to 0..g−1), as PyTorch does;
//   - in double, rounded to float at the end: the exact bicubic of the float
//     inputs. PyTorch computes in float32; on the test's grids (values up to
//     3) it is within 1.5e-6 of float64, and a float32 version of this code
//     with the same formulas in the same order still differed from it by up
//     to 2.7e-6 (its CPU kernel rounds differently, fused multiply-adds most
//     likely). So the two agree to a few 1e-6, not bit for bit.
//
// Same grid: every t is 0, whose weights are exactly (0, 1, 0, 0), so the
// embeddings come back unchanged, bit for bit (torchvision returns them
// untouched in that case).
#ifndef POS_INTERPOLATE_H
#define POS_INTERPOLATE_H

// PyTorch's cubic convolution constant.
#define BICUBIC_A (-0.75)

// out (n*n,C) from grid (g*g,C): row r*side + c holds position (r,c), each of width C.
void bicubic_resize_grid(float *out, const float *grid, int g, int n, int C);

// out (1+n*n,C) from pos (1+g*g,C): row 0 (the class token's) copied, the
// grid's rows resampled by bicubic_resize_grid. out and pos must not overlap.
void pos_embedding_interpolate(float *out, const float *pos, int g, int n, int C);

#endif
