// embed.h — from patches to the Transformer's input tokens. The patch rows
// (B,N,Cin*P*P) are projected to width C by linear_forward with the Conv2d
// weight (C,Cin,P,P) seen as (C, Cin*P*P); then the class token is put in
// front and a position embedding added:
//     tokens[b,0]   = class_token + pos[0]
//     tokens[b,1+n] = patch_embedding[b,n] + pos[1+n]
#ifndef EMBED_H
#define EMBED_H

#include "rng.h"
#include "tensors.h"

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

// The whole embedding of one image as chapter 02 builds it, for the chapter
// programs 02-04: the projection, the class token and learned 1D position
// embeddings, with their activations. (Chapter 05's encoder lists its own.)
typedef struct {
    int Cin, H, W, P, C; // image (Cin,H,W), patch size P, width C
    int N, T, D;         // N patches, T = N+1 tokens, D = Cin*P*P numbers per patch
    float *weight;       // (C,Cin,P,P): a Conv2d's weight, used as a Linear (C,D)
    float *bias;         // (C)
    float *class_token;  // (C)
    float *pos;          // (T,C) learned 1D position embeddings
    float *image;        // (1,Cin,H,W)
    float *patches;      // (1,N,D)
    float *patch_emb;    // (1,N,C)
    float *tokens;       // (1,T,C)
} Embedding;

// Sets the sizes (P divides H and W) and lists the parameters in params, with
// torchvision's names, and the activations in acts: lists begun by
// tensors_init, allocated by tensors_alloc with whatever else the caller adds.
void embedding_add(Embedding *e, Tensors *params, Tensors *acts, int Cin, int H, int W, int P,
                   int C);
// As PyTorch initialises a Conv2d, the class token zero, learned positions
// from posemb_init_learned.
void embedding_init(Embedding *e, Rng *rng);
// patch_emb (1,N,C) from image (1,Cin,H,W): patches, each projected to width C.
void embedding_project(Embedding *e);

#endif
