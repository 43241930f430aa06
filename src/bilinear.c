// bilinear.c — bilinear resampling of one image plane (align_corners=False).
#include "bilinear.h"

#include <assert.h>
#include <math.h>

// Where output index i samples an input of n values when there are m outputs:
// the lower neighbour *lo, the upper *hi and the upper's weight *t.
static void source_index(int i, int n, int m, int *lo, int *hi, double *t) {
    double x = (i + 0.5) * n / m - 0.5;
    if (x < 0.0) x = 0.0;
    *lo = (int)floor(x);
    if (*lo > n - 1) *lo = n - 1;
    *hi = *lo + 1 < n ? *lo + 1 : n - 1;
    *t = x - *lo;
}

// region: bilinear
void bilinear_resize(float *out, const float *in, int h, int w, int H, int W) {
    assert(h > 0 && w > 0 && H > 0 && W > 0);
    for (int r = 0; r < H; r++) {
        int y0, y1;
        double ty;
        source_index(r, h, H, &y0, &y1, &ty);
        for (int c = 0; c < W; c++) {
            int x0, x1;
            double tx;
            source_index(c, w, W, &x0, &x1, &tx);
            double top = (1 - tx) * in[y0 * w + x0] + tx * in[y0 * w + x1];
            double bottom = (1 - tx) * in[y1 * w + x0] + tx * in[y1 * w + x1];
            out[r * W + c] = (float)((1 - ty) * top + ty * bottom);
        }
    }
}
// endregion: bilinear
