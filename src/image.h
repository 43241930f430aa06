// image.h — 8-bit pictures in memory, written as PNG (stb_image_write) and read
// from PNG (libpng) or JPEG (libjpeg-turbo), decoders made for untrusted files;
// plus the pictures the chapters draw: grayscale and heatmap renderings of float
// arrays, nearest-neighbour upscaling (a 28x28 image is too small for a slide),
// grids of tiles, lines.
#ifndef IMAGE_H
#define IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include "colormap.h"
#include "error.h"

typedef struct {
    int width, height;
    int channels;          // 1 = gray, 3 = RGB
    unsigned char *pixels; // (height, width, channels), row-major
} Image;

Image image_new(int width, int height, int channels); // all black
void image_free(Image *img);

// Writes a PNG, atomically (temporary name, then rename).
bool image_write_png(const char *path, const Image *img, Error *err);
// Reads a PNG or JPEG file as `channels` channels (1 or 3); only these two
// formats are read, told by their signatures. Refused before any pixel is
// decoded: a file over 256 MiB; a picture wider or higher than 16384 pixels, or
// of more than 2^26 (64 M) pixels, as its header declares; a CMYK JPEG. Refused
// while decoding, never decoded into partial pixels: the damage the decoders
// detect (a PNG's CRCs and zlib checks, data cut short, and in a JPEG every
// libjpeg warning: codes that do not exist, misplaced markers; JPEG has no
// checksum, so a changed bit that still decodes goes unseen), and a progressive
// JPEG of more than 500 scans. Conversions: gray to RGB repeats the value; RGB
// to gray is the BT.601 luma, (299 R + 587 G + 114 B) / 1000 rounded (a colour
// JPEG's own Y channel); 16-bit PNG samples keep their high byte; palette PNGs
// give their colours; alpha and PNG transparency are dropped, the stored colour
// kept (as PIL's convert("RGB") does).
bool image_read(const char *path, int channels, Image *out, Error *err);
// The same for a file already in memory (bytes, size); name is used in messages.
bool image_decode(const unsigned char *bytes, size_t size, const char *name, int channels,
                  Image *out, Error *err);

// x (H,W) mapped linearly from [lo, hi] to black..white (values outside clamp).
Image image_from_gray(const float *x, int H, int W, float lo, float hi);
// x (H,W) mapped linearly from [lo, hi] through viridis.
Image image_heatmap(const float *x, int H, int W, float lo, float hi);
// x (Cin,H,W) with Cin 1 or 3, values in [0, 1], to a gray or RGB image.
Image image_from_planes(const float *x, int Cin, int H, int W);
// The image as planes in [0, 1]: out (channels, height, width).
void image_to_planes(const Image *img, float *out);

Image image_to_rgb(const Image *img);                        // gray is repeated
Image image_upscale(const Image *img, int scale);            // each pixel a scale x scale block
Image image_resize(const Image *img, int width, int height); // smooth resampling
// The largest centred square, resized to side x side (the usual ViT preprocessing).
Image image_square(const Image *img, int side);

// Tiles of equal size laid out in rows of `columns`, `border` pixels of
// border_color around and between them. The result is RGB.
Image image_grid(const Image *tiles, int count, int columns, int border, Rgb border_color);
// Lines of `thickness` pixels every `cell` pixels, outer edges included.
void image_draw_grid(Image *img, int cell, int thickness, Rgb color);
void image_fill_rect(Image *img, int x, int y, int w, int h, Rgb color);

#endif
