// shift.c — whole-pixel translations of maps, and the sizes of their errors.
#include "shift.h"

#include <assert.h>
#include <math.h>
#include <string.h>

// a mod n in 0..n-1, for any integer a.
static int wrap(long a, int n) {
    long r = a % n;
    return (int)(r < 0 ? r + n : r);
}

// region: shift
void shift_map(float *out, const float *in, int planes, int H, int W, int depth, int dy, int dx,
               ShiftFill fill) {
    // out, in (planes,H,W,depth)
    assert(out != in && H > 0 && W > 0 && depth > 0);
    size_t cell = sizeof(float) * (size_t)depth;
    for (int p = 0; p < planes; p++) {
        const float *src = in + (size_t)p * H * W * depth; // (H,W,depth)
        float *dst = out + (size_t)p * H * W * depth;      // (H,W,depth)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                long sy = (long)y - dy, sx = (long)x - dx; // where the content comes from
                float *to = dst + ((size_t)y * W + x) * depth;
                if (fill == SHIFT_CIRCULAR)
                    memcpy(to, src + ((size_t)wrap(sy, H) * W + wrap(sx, W)) * depth, cell);
                else if (sy >= 0 && sy < H && sx >= 0 && sx < W)
                    memcpy(to, src + ((size_t)sy * W + sx) * depth, cell);
                else
                    memset(to, 0, cell);
            }
    }
}
// endregion: shift

double l2_distance(const float *a, const float *b, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        sum += d * d;
    }
    return sqrt(sum);
}

double l2_norm(const float *a, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * a[i];
    return sqrt(sum);
}
