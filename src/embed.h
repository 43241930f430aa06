// embed.h — from patches to the Transformer's input tokens. The patch rows
// (B,N,Cin*P*P) are projected to width C by linear_forward with the Conv2d
// weight (C,Cin,P,P) seen as (C, Cin*P*P); then the class token is put in
// front and a position embedding added:
//     tokens[b,0]   = class_token + pos[0]
//     tokens[b,1+n] = patch_embedding[b,n] + pos[1+n]
#ifndef EMBED_H
#define EMBED_H

#include "rng.h"

// tokens (B,T,C) from patch_emb (B,N,C), class_token (C), pos (T,C); T = N+1.
void tokens_forward(float *tokens, const float *patch_emb, const float *class_token,
                    const float *pos, int B, int N, int C);
// The backward pass (the convention: linear.h): dpatch_emb (B,N,C),
// dclass_token (C), dpos (T,C) += from dtokens (B,T,C).
void tokens_backward(float *dpatch_emb, float *dclass_token, float *dpos, const float *dtokens,
                     int B, int N, int C);

// Learned 1D position embeddings at initialisation: truncated normal, std 0.02,
// cut at two standard deviations. pos (T,C).
void posemb_init_learned(float *pos, int T, int C, Rng *rng);

// Fixed 2D sine-cosine position embeddings for a grid_h x grid_w patch grid,
// C divisible by 4: for patch (y,x) and i < C/4, with w_i = 10000^(-i/(C/4-1)),
//     [sin(x w_i) | cos(x w_i) | sin(y w_i) | cos(y w_i)]
// (as in big_vision; MAE uses a close variant). pos (grid_h*grid_w, C).
void posemb_sincos_2d(float *pos, int grid_h, int grid_w, int C);

// Cosine similarity of every row of x with every other: sim (R,R) from x (R,C).
void cosine_similarity_rows(float *sim, const float *x, int R, int C);

#endif
