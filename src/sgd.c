// sgd.c — SGD with momentum over one flat parameter buffer.
#include "sgd.h"

#include <assert.h>
#include <stdlib.h>
#include "error.h"

void sgd_build(Sgd *opt, size_t count, float momentum) {
    assert(momentum >= 0.0f && momentum < 1.0f);
    *opt = (Sgd){.momentum = momentum, .count = count, .velocity = xcalloc(count, sizeof(float))};
}

void sgd_free(Sgd *opt) {
    free(opt->velocity);
    *opt = (Sgd){0};
}

// region: sgd-step
void sgd_step(Sgd *opt, float *params, const float *grads, float lr) {
    opt->step++;
    float mu = opt->momentum, *v = opt->velocity;
    long n = (long)opt->count;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        v[i] = mu * v[i] + grads[i];
        params[i] -= lr * v[i];
    }
}
// endregion: sgd-step
