// mpp.c — masked patch prediction's corruption, targets and gathering of the
// corrupted patches' tokens (forward passes); mpp_backward.c has the backward.
#include "mpp.h"

#include <assert.h>
#include <math.h>
#include <string.h>

int mpp_classes(int Cin) {
    assert(Cin >= 1 && Cin <= 3);
    int K = 1;
    for (int c = 0; c < Cin; c++) K *= MPP_LEVELS;
    return K;
}

int mpp_round(double x, Rng *rng) {
    return (int)floor(x + (double)rng_uniform(rng));
}

// region: mpp-draw
// One image's pattern: fate (N), source (N); order (N) is scratch.
static void draw_one(uint8_t *fate, int *source, int *order, int N, Rng *rng) {
    // 1. how many of each: corrupted M, masked, replaced, kept (rounded stochastically)
    int M = mpp_round(MPP_CORRUPT_SHARE * N, rng);
    int masked = mpp_round(MPP_MASK_SHARE * M, rng);
    int replaced = mpp_round(0.5 * (M - masked), rng); // the rest split in two halves
    // 2. which: the first M of a random order, the masked first, then the replaced
    rng_permutation(rng, order, N);
    for (int n = 0; n < N; n++) fate[n] = MPP_CLEAN, source[n] = n;
    for (int i = 0; i < M; i++)
        fate[order[i]] = i < masked ? MPP_MASKED : i < masked + replaced ? MPP_REPLACED : MPP_KEPT;
    // 3. a replaced patch takes the embedding of another patch of the image, any but itself
    for (int i = masked; i < masked + replaced; i++) {
        int n = order[i], other = rng_int(rng, N - 1);
        source[n] = other < n ? other : other + 1;
    }
}

void mpp_corruption_draw(uint8_t *fate, int *source, int B, int N, Rng *rng) {
    assert(N >= 2 && N <= MPP_MAX_PATCHES);
    int order[MPP_MAX_PATCHES];
    for (int b = 0; b < B; b++)
        draw_one(fate + (size_t)b * N, source + (size_t)b * N, order, N, rng);
}
// endregion: mpp-draw

// region: mpp-targets
void mpp_targets(int *targets, const float *images, int B, int Cin, int S, int P, float mean,
                 float std) {
    // images (B,Cin,S,S) normalised; targets (B,N)
    int G = S / P, N = G * G;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            int y0 = (n / G) * P, x0 = (n % G) * P, target = 0;
            for (int c = 0; c < Cin; c++) {
                const float *x = images + ((size_t)b * Cin + c) * S * S; // (S,S)
                long sum = 0;                                            // of pixels 0..255
                for (int y = y0; y < y0 + P; y++)
                    for (int i = x0; i < x0 + P; i++)
                        sum += lrintf((x[y * S + i] * std + mean) * 255.0f);
                // floor(mean * 8) with mean = sum / (255 P^2), in integers; 1.0 is level 7
                long level = sum * MPP_LEVELS / (255L * P * P);
                target =
                    target * MPP_LEVELS + (int)(level < MPP_LEVELS - 1 ? level : MPP_LEVELS - 1);
            }
            targets[(size_t)b * N + n] = target;
        }
}
// endregion: mpp-targets

// region: mpp-corrupt
void mpp_corrupt_forward(float *out, const float *emb, const float *mask_token, const uint8_t *fate,
                         const int *source, int B, int N, int C) {
    // out, emb (B,N,C); mask_token (C); fate, source (B,N)
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            size_t i = (size_t)b * N + n;
            const float *from =
                fate[i] == MPP_MASKED ? mask_token : emb + ((size_t)b * N + source[i]) * C;
            memcpy(out + i * C, from, sizeof(float) * C);
        }
}
// endregion: mpp-corrupt

int mpp_gather_forward(float *rows, int *row_targets, const float *out, const int *targets,
                       const uint8_t *fate, int B, int N, int C) {
    // rows (R,C) from out (B,T,C); row_targets (R) from targets (B,N)
    int T = N + 1, R = 0;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            if (fate[(size_t)b * N + n] == MPP_CLEAN) continue;
            memcpy(rows + (size_t)R * C, out + ((size_t)b * T + 1 + n) * C, sizeof(float) * C);
            row_targets[R++] = targets[(size_t)b * N + n];
        }
    return R;
}
