// mpp_backward.c — the backward passes of masked patch prediction's
// corruption and gathering (mpp.h).
#include "mpp.h"

#include <stddef.h>

// region: mpp-corrupt-backward
void mpp_corrupt_backward(float *demb, float *dmask_token, const float *dout, const uint8_t *fate,
                          const int *source, int B, int N, int C) {
    // forward: out[b,n] = mask_token (masked), else emb[b, source[b,n]]
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            size_t i = (size_t)b * N + n;
            float *to =
                fate[i] == MPP_MASKED ? dmask_token : demb + ((size_t)b * N + source[i]) * C;
            const float *d = dout + i * C; // (C)
            for (int c = 0; c < C; c++) to[c] += d[c];
        }
}
// endregion: mpp-corrupt-backward

void mpp_gather_backward(float *dout, const float *drows, const uint8_t *fate, int B, int N,
                         int C) {
    // forward: rows[r] = out[b, 1+n] for the r-th corrupted patch (b,n)
    int T = N + 1, r = 0;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            if (fate[(size_t)b * N + n] == MPP_CLEAN) continue;
            float *to = dout + ((size_t)b * T + 1 + n) * C;
            const float *d = drows + (size_t)r++ * C; // (C)
            for (int c = 0; c < C; c++) to[c] += d[c];
        }
}
