// pos_interpolate.c — bicubic resampling with aligned corners of a grid of
// vectors, as torch.nn.functional.interpolate does it, and the position
// embeddings resampled with it.
#include "pos_interpolate.h"

#include <assert.h>
#include <math.h>
#include <string.h>

// k(x) for |x| <= 1 and for 1 < |x| < 2.
static double cubic_near(double x) {
    return ((BICUBIC_A + 2.0) * x - (BICUBIC_A + 3.0)) * x * x + 1.0;
}
static double cubic_far(double x) {
    return ((BICUBIC_A * x - 5.0 * BICUBIC_A) * x + 8.0 * BICUBIC_A) * x - 4.0 * BICUBIC_A;
}

// region: bicubic-taps
// Output index i of n, from an input of g: the four input indices (clamped
// to 0..g-1) and their weights.
static void bicubic_taps(int index[4], double weight[4], int i, int g, int n) {
    // align_corners: the corners map onto the corners; n = 1 samples index 0
    double y = n > 1 ? (double)i * (g - 1) / (n - 1) : 0.0;
    int y0 = (int)floor(y);
    if (y0 > g - 1) y0 = g - 1;
    double t = fmin(fmax(y - y0, 0.0), 1.0);
    weight[0] = cubic_far(t + 1.0);
    weight[1] = cubic_near(t);
    weight[2] = cubic_near(1.0 - t);
    weight[3] = cubic_far(2.0 - t);
    for (int k = 0; k < 4; k++) {
        int j = y0 - 1 + k;
        index[k] = j < 0 ? 0 : j > g - 1 ? g - 1 : j;
    }
}
// endregion: bicubic-taps

void bicubic_resize_grid(float *out, const float *grid, int g, int n, int C) {
    // out (n*n,C), grid (g*g,C)
    assert(g >= 1 && n >= 1 && C >= 1);
    for (int r = 0; r < n; r++) {
        int ry[4], cx[4];
        double wy[4], wx[4];
        bicubic_taps(ry, wy, r, g, n);
        for (int c = 0; c < n; c++) {
            bicubic_taps(cx, wx, c, g, n);
            float *o = out + ((size_t)r * n + c) * C;
            for (int ch = 0; ch < C; ch++) {
                // Σ_k wy[k] · Σ_j wx[j] · grid[ry[k], cx[j]]: along the rows, then down
                double sum = 0.0;
                for (int k = 0; k < 4; k++) {
                    const float *row = grid + (size_t)ry[k] * g * C;
                    double across = 0.0;
                    for (int j = 0; j < 4; j++) across += wx[j] * row[(size_t)cx[j] * C + ch];
                    sum += wy[k] * across;
                }
                o[ch] = (float)sum;
            }
        }
    }
}

// region: pos-interpolate
void pos_embedding_interpolate(float *out, const float *pos, int g, int n, int C) {
    // out (1+n*n,C), pos (1+g*g,C)
    memcpy(out, pos, (size_t)C * sizeof(float)); // the class token's embedding, kept
    bicubic_resize_grid(out + C, pos + C, g, n, C);
}
// endregion: pos-interpolate
