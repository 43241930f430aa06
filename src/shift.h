// shift.h — moving a map by whole pixels: the translation T(dy,dx) of chapter
// 08, and how far an output is from moving with its input.
//
// A map is `planes` independent (H,W) grids whose every position holds `depth`
// contiguous floats: an image or a feature map (C,H,W) is C planes of depth 1;
// a ViT's patch tokens (g,g,C) are one plane of depth C on the patch grid.
//
//     out[p][y][x] = in[p][y - dy][x - dx]
//
// (dy, dx > 0 moves the content down and to the right). Where y - dy or
// x - dx falls outside the grid, SHIFT_ZERO writes zeros (what a camera sees
// when the object moves: new background comes in) and SHIFT_CIRCULAR wraps
// around (what leaves on one side comes back on the other: the shift is then
// a permutation of the positions, undone exactly by T(-dy,-dx)).
#ifndef SHIFT_H
#define SHIFT_H

#include <stddef.h>

typedef enum { SHIFT_ZERO, SHIFT_CIRCULAR } ShiftFill;

// out (planes,H,W,depth) = T(dy,dx) in (planes,H,W,depth); out must not be in.
// Any integer dy, dx: |dy| >= H (or |dx| >= W) empties a zero-filled map and
// wraps a circular one around whole turns.
void shift_map(float *out, const float *in, int planes, int H, int W, int depth, int dy, int dx,
               ShiftFill fill);

// The sizes an equivariance error is made of, summed in double over n floats:
// ‖a − b‖ and ‖a‖. Chapter 08's error is
//     ‖f(Tx) − T f(x)‖ / ‖f(x)‖ = l2_distance(f(Tx), T f(x), n) / l2_norm(f(x), n).
double l2_distance(const float *a, const float *b, size_t n);
double l2_norm(const float *a, size_t n);

#endif
