// loss.c — softmax cross-entropy over K classes with optional label smoothing,
// and its gradient with respect to the logits.
#include "loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

// region: cross-entropy
float cross_entropy_forward(float *probs, const float *logits, const int *labels, int B, int K,
                            float smoothing) {
    // probs (B,K), logits (B,K), labels (B)
    assert(B > 0 && K > 0 && smoothing >= 0.0f && smoothing < 1.0f);
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K; // (K)
        float *p = probs + (size_t)b * K;        // (K)
        assert(labels[b] >= 0 && labels[b] < K);
        float max = z[0];
        for (int k = 1; k < K; k++) max = z[k] > max ? z[k] : max;
        double sum = 0.0, sum_z = 0.0; // of exp(z - max), and of z - max
        for (int k = 0; k < K; k++) {
            p[k] = expf(z[k] - max);
            sum += p[k];
            sum_z += z[k] - max;
        }
        for (int k = 0; k < K; k++) p[k] = (float)(p[k] / sum);
        // log p_k = z_k - max - log(sum); target = (1 - s) onehot(label) + s/K
        double log_sum = log(sum);
        double nll = -(z[labels[b]] - max - log_sum); // -log p_label
        double uniform = -(sum_z / K - log_sum);      // -mean_k log p_k
        total += (1.0 - smoothing) * nll + smoothing * uniform;
    }
    return (float)(total / B);
}

void cross_entropy_backward(float *dlogits, const float *probs, const int *labels, int B, int K,
                            float smoothing) {
    // dlogits (B,K) written; probs (B,K), labels (B)
    // d(loss)/d(logit_k) = (p_k - target_k) / B for the mean over the batch
    float off = smoothing / (float)K, on = 1.0f - smoothing + off;
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * K; // (K)
        float *d = dlogits + (size_t)b * K;     // (K)
        for (int k = 0; k < K; k++) d[k] = (p[k] - (k == labels[b] ? on : off)) / (float)B;
    }
}
// endregion: cross-entropy
