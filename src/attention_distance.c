// attention_distance.c — the paper's mean attention distance of a head.
#include "attention_distance.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

double patch_distance(int i, int j, int g, double P) {
    int dy = i / g - j / g, dx = i % g - j % g;
    return P * sqrt((double)(dy * dy + dx * dx));
}

// region: attention-distance
double attention_distance(const float *att, int T, int first, int g, double P) {
    // att (T,T): row i is query i's weights over the keys
    int N = g * g;
    assert(T == first + N && N > 0);
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        const float *a = att + (size_t)(first + i) * T + first; // query patch i, key patches
        double weight = 0.0, weighted = 0.0;
        for (int j = 0; j < N; j++) {
            weight += a[j];
            weighted += a[j] * patch_distance(i, j, g, P);
        }
        total += weight > 0.0 ? weighted / weight : 0.0; // d_i
    }
    return total / N; // the mean over the query patches
}
// endregion: attention-distance

void attention_distance_heads(double *sum, const float *att, int B, int NH, int T, int first, int g,
                              double P) {
    // sum (NH), att (B,NH,T,T)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            sum[h] += attention_distance(att + ((size_t)b * NH + h) * T * T, T, first, g, P);
}
