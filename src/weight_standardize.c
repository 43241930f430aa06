// weight_standardize.c — every output channel's weights to mean 0 and
// standard deviation 1 (plus eps), in double: the weights are few and
// standardised once a step.
#include "weight_standardize.h"

#include <math.h>
#include <stddef.h>

// region: weight-standardize
void weight_standardize_forward(float *wstd, float *std, const float *weight, int Cout,
                                int fan_in) {
    // wstd (Cout,fan_in), std (Cout) or NULL, weight (Cout,fan_in)
    for (int o = 0; o < Cout; o++) {
        const float *w = weight + (size_t)o * fan_in; // (fan_in)
        float *y = wstd + (size_t)o * fan_in;         // (fan_in)
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < fan_in; i++) mean += w[i];
        mean /= fan_in;
        for (int i = 0; i < fan_in; i++) var += (w[i] - mean) * (w[i] - mean);
        double sigma = sqrt(var / fan_in); // the biased standard deviation
        double s = 1.0 / (sigma + WEIGHT_STANDARDIZE_EPS);
        for (int i = 0; i < fan_in; i++) y[i] = (float)((w[i] - mean) * s);
        if (std != NULL) std[o] = (float)sigma;
    }
}
// endregion: weight-standardize
