// preprocess.c — torchvision's preset for ImageNet models, step by step:
// PIL's bilinear resize (its Resample.c, in the same fixed point), the centre
// crop, the normalisation.
#include "preprocess.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"

// region: pil-coefficients
// PIL's fixed point for 8-bit images: coefficients scaled by 2^22.
enum { PRECISION_BITS = 32 - 8 - 2 };

// The triangle filter of PIL's BILINEAR, support 1.
static double triangle(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

// For each of out output positions over in input ones: the first input it
// reads, bounds[2o], how many, bounds[2o+1], and their weights k[o*ksize ..]
// in fixed point (PIL's precompute_coeffs and normalize_coeffs_8bpc). Returns ksize.
static int coefficients(int in, int out, int **bounds, int **k) {
    double scale = (double)in / out, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale; // shrinking widens the triangle: it averages
    int ksize = (int)ceil(support) * 2 + 1;
    *bounds = xmalloc(sizeof(int) * 2 * (size_t)out);
    *k = xcalloc((size_t)out * ksize, sizeof(int));
    double *w = xmalloc(sizeof(double) * (size_t)ksize);
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale, sum = 0.0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = (hi > in ? in : hi) - lo;
        for (int x = 0; x < hi; x++) sum += w[x] = triangle((x + lo - center + 0.5) / filterscale);
        for (int x = 0; x < hi; x++) {
            double v = sum != 0.0 ? w[x] / sum : w[x];
            (*k)[(size_t)o * ksize + x] =
                (int)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
        }
        (*bounds)[2 * o] = lo, (*bounds)[2 * o + 1] = hi;
    }
    free(w);
    return ksize;
}

// A fixed-point sum back to a byte: rounded (the sum started at one half), clamped.
static unsigned char clip8(int v) {
    if (v >= 1 << PRECISION_BITS << 8) return 255;
    return v <= 0 ? 0 : (unsigned char)(v >> PRECISION_BITS);
}
// endregion: pil-coefficients

// region: pil-resize
// One pass along rows (horizontal) or columns: out (rows, width, ch) from
// in's rows first_row.. (horizontal) or from all of in (vertical).
static void resample_pass(Image *out, const Image *in, bool horizontal, int first_row,
                          const int *bounds, const int *k, int ksize) {
    int ch = in->channels;
    for (int y = 0; y < out->height; y++)
        for (int x = 0; x < out->width; x++) {
            int o = horizontal ? x : y, lo = bounds[2 * o], n = bounds[2 * o + 1];
            const int *w = k + (size_t)o * ksize;
            for (int c = 0; c < ch; c++) {
                int sum = 1 << (PRECISION_BITS - 1);
                for (int i = 0; i < n; i++) {
                    size_t at = horizontal ? ((size_t)(y + first_row) * in->width + lo + i)
                                           : ((size_t)(lo + i) * in->width + x);
                    sum += in->pixels[at * ch + c] * w[i];
                }
                out->pixels[((size_t)y * out->width + x) * ch + c] = clip8(sum);
            }
        }
}

Image preprocess_resize(const Image *img, int width, int height) {
    assert(width > 0 && height > 0);
    int *hb, *hk, *vb, *vk;
    int hsize = coefficients(img->width, width, &hb, &hk);
    int vsize = coefficients(img->height, height, &vb, &vk);
    // the horizontal pass reads only the rows the vertical one will use
    int first = vb[0], last = vb[2 * (height - 1)] + vb[2 * (height - 1) + 1];
    Image tmp;
    if (width != img->width) {
        tmp = image_new(width, last - first, img->channels);
        resample_pass(&tmp, img, true, first, hb, hk, hsize);
        for (int y = 0; y < height; y++) vb[2 * y] -= first;
    } else { // PIL skips a pass that changes nothing
        tmp = image_new(img->width, img->height, img->channels);
        memcpy(tmp.pixels, img->pixels, (size_t)img->width * img->height * img->channels);
    }
    Image out = image_new(width, height, img->channels);
    if (height != img->height)
        resample_pass(&out, &tmp, false, 0, vb, vk, vsize);
    else
        memcpy(out.pixels, tmp.pixels, (size_t)width * height * img->channels);
    image_free(&tmp);
    free(hb), free(hk), free(vb), free(vk);
    return out;
}
// endregion: pil-resize

// region: preset
Image preprocess_resize_shorter(const Image *img, int side) {
    bool wide = img->width >= img->height;
    int shorter = wide ? img->height : img->width, longer = wide ? img->width : img->height;
    int other = (int)((long long)side * longer / shorter); // int(side * long / short)
    // (an exact quotient in integers: Python's float division then int() agrees for these sizes)
    return preprocess_resize(img, wide ? other : side, wide ? side : other);
}

// round((size - side) / 2) as Python rounds it: halves to the even neighbour.
static int centre_offset(int size, int side) {
    int d = size - side;
    return d % 2 == 0 ? d / 2 : ((d - 1) / 2) % 2 == 0 ? (d - 1) / 2 : (d + 1) / 2;
}

Image preprocess_center_crop(const Image *img, int side) {
    assert(img->width >= side && img->height >= side);
    int top = centre_offset(img->height, side), left = centre_offset(img->width, side);
    int ch = img->channels;
    Image out = image_new(side, side, ch);
    for (int y = 0; y < side; y++)
        memcpy(out.pixels + (size_t)y * side * ch,
               img->pixels + ((size_t)(top + y) * img->width + left) * ch, (size_t)side * ch);
    return out;
}

void preprocess_normalize(float *out, const Image *img, const float *mean, const float *std) {
    // out (ch,H,W) from pixels (H,W,ch): float32 operations in torchvision's order
    int ch = img->channels, HW = img->width * img->height;
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < HW; i++)
            out[(size_t)c * HW + i] =
                ((float)img->pixels[(size_t)i * ch + c] / 255.0f - mean[c]) / std[c];
}

void preprocess_image(float *out, const Image *img, int resize, int crop, const float *mean,
                      const float *std, Image *shown) {
    assert(resize >= crop);
    Image resized = preprocess_resize_shorter(img, resize);
    Image cropped = preprocess_center_crop(&resized, crop);
    preprocess_normalize(out, &cropped, mean, std);
    image_free(&resized);
    if (shown != NULL)
        *shown = cropped;
    else
        image_free(&cropped);
}
// endregion: preset
