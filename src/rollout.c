// rollout.c — attention rollout through the layers.
#include "rollout.h"

#include <assert.h>
#include <string.h>

// region: rollout
void rollout_layer(float *out, const float *att, int NH, int T) {
    // out (T,T), att (NH,T,T)
    for (int i = 0; i < T; i++) {
        double row = 0.0;
        for (int j = 0; j < T; j++) {
            double a = 0.0; // 1. the heads' mean
            for (int h = 0; h < NH; h++) a += att[((size_t)h * T + i) * T + j];
            a = a / NH + (i == j ? 1.0 : 0.0); // 2. plus the identity: the residual
            out[(size_t)i * T + j] = (float)a;
            row += a;
        }
        for (int j = 0; j < T; j++) out[(size_t)i * T + j] = (float)(out[(size_t)i * T + j] / row);
    }
}

void rollout(float *out, const float *const *att, int L, int NH, int T, float *scratch) {
    // out (T,T); att[l] (NH,T,T); scratch (2,T,T)
    assert(L >= 1);
    float *layer = scratch, *product = scratch + (size_t)T * T; // (T,T) each
    rollout_layer(out, att[0], NH, T);                          // R = Â_1
    for (int l = 1; l < L; l++) {                               // R = Â_l · R
        rollout_layer(layer, att[l], NH, T);
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                double s = 0.0;
                for (int k = 0; k < T; k++)
                    s += (double)layer[(size_t)i * T + k] * out[(size_t)k * T + j];
                product[(size_t)i * T + j] = (float)s;
            }
        memcpy(out, product, sizeof(float) * T * T);
    }
}
// endregion: rollout
