// embed.c — the Transformer's input tokens: the class token in front of the
// projected patches, plus position embeddings (learned, or fixed 2D sin-cos);
// the cosine similarity the chapters use to look at position embeddings; and
// the whole embedding of one image as the chapter programs 02-04 set it up.
#include "embed.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "error.h"
#include "linear.h"
#include "patch.h"

// region: tokens-forward
void tokens_forward(float *tokens, const float *patch_emb, const float *class_token,
                    const float *pos, int B, int N, int C) {
    // tokens (B,T,C), patch_emb (B,N,C), class_token (C), pos (T,C); T = N+1
    int T = N + 1;
    for (int b = 0; b < B; b++) {
        float *out = tokens + (size_t)b * T * C; // (T,C)
        for (int c = 0; c < C; c++) out[c] = class_token[c] + pos[c];
        for (int n = 0; n < N; n++) {
            const float *patch = patch_emb + ((size_t)b * N + n) * C; // (C)
            const float *p = pos + (size_t)(1 + n) * C;               // (C)
            float *token = out + (size_t)(1 + n) * C;                 // (C)
            for (int c = 0; c < C; c++) token[c] = patch[c] + p[c];
        }
    }
}
// endregion: tokens-forward

// region: posemb-learned
void posemb_init_learned(float *pos, int T, int C, Rng *rng) {
    // pos (T,C): each value Normal(0, 0.02) redrawn until it lies within ±0.04
    rng_fill_trunc_normal(rng, pos, T * C, 0.02f, -0.04f, 0.04f);
}
// endregion: posemb-learned

// region: posemb-sincos
void posemb_sincos_2d(float *pos, int grid_h, int grid_w, int C) {
    // pos (grid_h*grid_w, C), patches row by row; C/4 frequencies per quarter
    assert(C % 4 == 0 && C >= 8);
    int F = C / 4;
    for (int y = 0; y < grid_h; y++)
        for (int x = 0; x < grid_w; x++) {
            float *p = pos + ((size_t)y * grid_w + x) * C; // (C)
            for (int i = 0; i < F; i++) {
                double omega = pow(10000.0, -(double)i / (F - 1)); // from 1 down to 1/10000
                p[i] = (float)sin(x * omega);
                p[F + i] = (float)cos(x * omega);
                p[2 * F + i] = (float)sin(y * omega);
                p[3 * F + i] = (float)cos(y * omega);
            }
        }
}
// endregion: posemb-sincos

// region: cosine-similarity
void cosine_similarity_rows(float *sim, const float *x, int R, int C) {
    // sim (R,R), x (R,C): sim[i][j] = x_i · x_j / (|x_i| |x_j|)
    float *unit = xmalloc(sizeof(float) * R * C); // (R,C): each row over its length
    for (int r = 0; r < R; r++) {
        double norm2 = 0.0;
        for (int c = 0; c < C; c++) norm2 += (double)x[r * C + c] * x[r * C + c];
        double norm = fmax(sqrt(norm2), 1e-8); // as torch: a zero row has similarity 0
        for (int c = 0; c < C; c++) unit[r * C + c] = (float)(x[r * C + c] / norm);
    }
    for (int i = 0; i < R; i++)
        for (int j = 0; j < R; j++) {
            double dot = 0.0;
            for (int c = 0; c < C; c++) dot += (double)unit[i * C + c] * unit[j * C + c];
            sim[i * R + j] = (float)dot;
        }
    free(unit);
}
// endregion: cosine-similarity

// region: embedding-add
void embedding_add(Embedding *e, Tensors *params, Tensors *acts, int Cin, int H, int W, int P,
                   int C) {
    *e = (Embedding){.Cin = Cin, .H = H, .W = W, .P = P, .C = C};
    e->N = patch_count(H, W, P);
    e->T = e->N + 1;
    e->D = Cin * P * P;
    tensors_add(params, &e->weight, 4, (int[]){C, Cin, P, P}, "conv_proj.weight");
    tensors_add(params, &e->bias, 1, (int[]){C}, "conv_proj.bias");
    tensors_add(params, &e->class_token, 1, (int[]){C}, "class_token");
    tensors_add(params, &e->pos, 2, (int[]){e->T, C}, "encoder.pos_embedding");
    tensors_add(acts, &e->image, 4, (int[]){1, Cin, H, W}, "image");
    tensors_add(acts, &e->patches, 3, (int[]){1, e->N, e->D}, "patches");
    tensors_add(acts, &e->patch_emb, 3, (int[]){1, e->N, C}, "patch_emb");
    tensors_add(acts, &e->tokens, 3, (int[]){1, e->T, C}, "tokens");
}
// endregion: embedding-add

// region: embedding-init
// PyTorch's default for a Conv2d: weight and bias uniform in ±1/sqrt(fan_in).
// The class token starts at zero, as in torchvision and big_vision.
void embedding_init(Embedding *e, Rng *rng) {
    float bound = 1.0f / sqrtf((float)e->D);
    rng_fill_uniform(rng, e->weight, e->C * e->D, -bound, bound);
    rng_fill_uniform(rng, e->bias, e->C, -bound, bound);
    posemb_init_learned(e->pos, e->T, e->C, rng);
}
// endregion: embedding-init

// region: embedding-project
void embedding_project(Embedding *e) {
    patchify(e->patches, e->image, 1, e->Cin, e->H, e->W, e->P);                    // (1,N,D)
    linear_forward(e->patch_emb, e->patches, e->weight, e->bias, e->N, e->D, e->C); // (1,N,C)
}
// endregion: embedding-project
