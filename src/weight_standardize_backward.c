// weight_standardize_backward.c — the backward pass of weight
// standardisation: LayerNorm's, with eps outside the square root.
//
// For one channel of n weights w, with c = w - mean(w), σ = sqrt(mean(c²)),
// s = 1 / (σ + eps) and ŵ = c·s, and g = dL/dŵ:
//     dL/dw = s·(g - mean(g)) - (ŵ / σ)·mean(g·ŵ)
// The first term is the centring's (the mean's gradient spreads evenly); the
// second is σ's: dσ/dw = c / (n σ), and ds/dσ = -s². With eps = 0, s = 1/σ
// and it is LayerNorm's s·(g - mean(g) - ŵ·mean(g·ŵ)). A channel whose
// weights are all equal has σ = 0 and ŵ = 0; its second term is taken as 0.
#include "weight_standardize.h"

#include <stddef.h>

void weight_standardize_backward(float *dweight, const float *dwstd, const float *wstd,
                                 const float *std, int Cout, int fan_in) {
    // dweight (Cout,fan_in) +=, dwstd (Cout,fan_in), wstd (Cout,fan_in), std (Cout)
    // forward: wstd = (w - mean(w)) / (std(w) + eps)
    for (int o = 0; o < Cout; o++) {
        const float *g = dwstd + (size_t)o * fan_in, *y = wstd + (size_t)o * fan_in;
        float *dw = dweight + (size_t)o * fan_in; // (fan_in) each
        double g_mean = 0.0, gy_mean = 0.0;
        for (int i = 0; i < fan_in; i++) {
            g_mean += g[i];
            gy_mean += (double)g[i] * y[i];
        }
        g_mean /= fan_in;
        gy_mean /= fan_in;
        double sigma = std[o], s = 1.0 / (sigma + WEIGHT_STANDARDIZE_EPS);
        double t = sigma > 0.0 ? gy_mean / sigma : 0.0; // σ's term, per unit of ŵ
        for (int i = 0; i < fan_in; i++) dw[i] += (float)(s * (g[i] - g_mean) - y[i] * t);
    }
}
