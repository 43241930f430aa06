// conv2d_gemm.h — the 2D convolution of chapter 02 (src/conv2d.h: the same
// definition, PyTorch's weight layout, square K x K kernels, stride, zero
// padding), computed through the one matrix product:
//
//     out (B,Cout,Ho,Wo) = in (B,Cin,H,W) ⋆ weight (Cout,Cin,K,K) + bias (Cout)
//
// Image by image, im2col lays every K x K window of the input out as a column
// of cols (Cin·K·K, Ho·Wo), the zero padding written as zeros; the convolution
// of that image is then one product, weight (Cout, Cin·K·K) · cols, by matmul.
// Chapter 02's conv2d_forward stays the readable definition that this is
// tested against. Kernels are square, as every convolution of a ResNet is.
//
// Scratch: the columns of one image, conv2d_gemm_scratch_floats(...) floats
// that the caller allocates once (a training loop must not allocate), for the
// forward and the backward pass alike. For a 1x1 kernel with stride 1 and no
// padding the columns are the image itself: the size is 0 and scratch may be
// NULL.
//
// Chunks: a product per image is small when the map is (4 positions at the
// end of a ResNet: a (64,576) weight times a (576,4) block of columns), and a
// product that small spends its time setting up rather than multiplying. The
// _chunked pair puts the columns of several images side by side, (Cin·K·K,
// n·Ho·Wo) for a chunk of n images, and makes one product of the chunk; the
// forward pass's output (Cout, n·Ho·Wo) is then copied out image by image. n
// is the power of two that gives at least CONV2D_GEMM_COLUMNS columns, a
// multiple of 16 (conv2d_gemm_chunk); a batch that n does not divide ends with
// a chunk whose missing images' columns are zero. The forward product is
// matmul's MATMUL_BY_COLUMN, whose columns do not depend on their neighbours:
// an image gives the same output bits whatever images share its chunk, so a
// thread's slice of a batch gives the bits of the whole batch. The scratch
// holds a chunk's columns and its output (or, backward, its dout):
// conv2d_gemm_chunk_scratch_floats(...).
//
// Threads: the layer keeps no state and writes only its arguments, so threads
// may call it at once on their own slices of a batch, each with its own
// scratch, out and parameter gradients (as src/vit.c runs the ViT). Outside a
// parallel region matmul shares each product among the threads.
#ifndef CONV2D_GEMM_H
#define CONV2D_GEMM_H

#include <stddef.h>

// Floats of scratch conv2d_gemm_forward and _backward need: Cin·K·K · Ho·Wo,
// or 0 for K = 1, stride 1, pad 0.
size_t conv2d_gemm_scratch_floats(int Cin, int H, int W, int K, int stride, int pad);

// out (B,Cout,Ho,Wo) from in (B,Cin,H,W), weight (Cout,Cin,K,K) and bias
// (Cout) or NULL; Ho = conv2d_out_size(H, K, stride, pad), Wo likewise.
void conv2d_gemm_forward(float *out, float *scratch, const float *in, const float *weight,
                         const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                         int stride, int pad);

// The columns of one image: cols (Cin·K·K, Ho·Wo) from image (Cin,H,W), row
// (c,ky,kx) and column (i,j) holding the pixel under kernel tap (ky,kx) of
// the window at output (i,j), 0 on the padding; and its adjoint, image
// (Cin,H,W) += each column added back where it came from.
void conv2d_im2col(float *cols, const float *image, int Cin, int H, int W, int K, int stride,
                   int pad);
void conv2d_col2im(float *image, const float *cols, int Cin, int H, int W, int K, int stride,
                   int pad);

// The backward pass (the convention: linear.h), from dout (B,Cout,Ho,Wo):
//     din (B,Cin,H,W)        += col2im(weight^T · dout)     per image
//     dweight (Cout,Cin,K,K) += dout · cols^T               summed over the images
//     dbias (Cout)           += the sum of dout over images and positions
// each d-pointer may be NULL; in and weight as the forward pass saw them.
void conv2d_gemm_backward(float *din, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *in, const float *weight, int B, int Cin,
                          int H, int W, int Cout, int K, int stride, int pad);

// ---- the same, a chunk of images per product ----

enum { CONV2D_GEMM_COLUMNS = 256 }; // columns of a chunk's product, at least

// n: images per chunk for an output of Ho x Wo (n·Ho·Wo >= CONV2D_GEMM_COLUMNS,
// a multiple of 16).
int conv2d_gemm_chunk(int Ho, int Wo);

// Floats of scratch conv2d_gemm_chunked_forward and _backward need: a chunk's
// columns (Cin·K·K, n·Ho·Wo) and its output or dout (Cout, n·Ho·Wo).
size_t conv2d_gemm_chunk_scratch_floats(int Cin, int H, int W, int Cout, int K, int stride,
                                        int pad);

// The columns of a chunk: cols (Cin·K·K, n·Ho·Wo) from images (m,Cin,H,W),
// m <= n, image j's columns (conv2d_im2col's) from column j·Ho·Wo on, and zero
// for the n - m images missing; and its adjoint, images (m,Cin,H,W) += the
// columns of each image added back (conv2d_col2im's).
void conv2d_im2col_chunk(float *cols, const float *images, int m, int n, int Cin, int H, int W,
                         int K, int stride, int pad);
void conv2d_col2im_chunk(float *images, const float *cols, int m, int n, int Cin, int H, int W,
                         int K, int stride, int pad);

// As conv2d_gemm_forward and conv2d_gemm_backward, with that scratch.
void conv2d_gemm_chunked_forward(float *out, float *scratch, const float *in, const float *weight,
                                 const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                                 int stride, int pad);
void conv2d_gemm_chunked_backward(float *din, float *dweight, float *dbias, float *scratch,
                                  const float *dout, const float *in, const float *weight, int B,
                                  int Cin, int H, int W, int Cout, int K, int stride, int pad);

#endif
