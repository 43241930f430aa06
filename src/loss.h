// loss.h — softmax cross-entropy, with optional label smoothing (Szegedy et
// al., 2016): the target puts 1 - s on the true class and s/K on every class.
#ifndef LOSS_H
#define LOSS_H

// probs (B,K) = softmax(logits (B,K)); returns the mean loss over the batch.
// labels (B) in 0..K-1; smoothing s in [0, 1).
float cross_entropy_forward(float *probs, const float *logits, const int *labels, int B, int K,
                            float smoothing);
// dlogits (B,K) = (probs - target) / B: the gradient of the mean loss (written, not added).
void cross_entropy_backward(float *dlogits, const float *probs, const int *labels, int B, int K,
                            float smoothing);

#endif
