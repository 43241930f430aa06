// bilinear.h — an image plane resampled to another size by bilinear
// interpolation, as torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False) and torchvision's Resize do when enlarging: the pixels
// are squares, and output pixel i's centre sits at input position
//     x = (i + ½)·w/W − ½      (clamped to 0 at the left edge)
// between input pixels ⌊x⌋ and ⌊x⌋ + 1 (the last one repeated past the right
// edge), weighted 1 − (x − ⌊x⌋) and x − ⌊x⌋; the same for rows. Chapter 10
// enlarges Fashion-MNIST's 28×28 images with it, to fine-tune at a higher
// resolution. (When shrinking, this samples without averaging: use it to
// enlarge.)
#ifndef BILINEAR_H
#define BILINEAR_H

// out (H,W) from in (h,w), in double, rounded to float at the end.
void bilinear_resize(float *out, const float *in, int h, int w, int H, int W);

#endif
