// image.c — 8-bit pictures: PNG writing (stb_image_write, into an AtomicFile),
// PNG/JPEG reading (stb_image), smooth resizing (stb_image_resize), and the
// renderings and drawing helpers the chapters use.
#include "image.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "files.h"

#define MAX_SIDE   16384      // image_read refuses pictures larger than this
#define MAX_PIXELS (1L << 26) // ... or with more pixels than this (64 M)

// ---- memory -----------------------------------------------------------------

Image image_new(int width, int height, int channels) {
    assert(width > 0 && height > 0);
    assert(channels == 1 || channels == 3);
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels;
    return (Image){width, height, channels, xcalloc(bytes, 1)};
}

void image_free(Image *img) {
    free(img->pixels);
    *img = (Image){0, 0, 0, NULL};
}

static size_t image_bytes(const Image *img) {
    return (size_t)img->width * (size_t)img->height * (size_t)img->channels;
}

// ---- files ------------------------------------------------------------------

typedef struct {
    FILE *file;
    int error; // errno of the first failed write, 0 while all is well
} PngSink;

static void png_sink_write(void *context, void *data, int size) {
    PngSink *sink = context;
    if (sink->error == 0 && fwrite(data, 1, (size_t)size, sink->file) != (size_t)size)
        sink->error = errno != 0 ? errno : EIO;
}

bool image_write_png(const char *path, const Image *img, Error *err) {
    assert(img->pixels != NULL && (img->channels == 1 || img->channels == 3));
    AtomicFile af;
    if (!atomic_open(&af, path, err)) return false;
    PngSink sink = {af.file, 0};
    int ok = stbi_write_png_to_func(png_sink_write, &sink, img->width, img->height, img->channels,
                                    img->pixels, img->width * img->channels);
    if (!ok || sink.error != 0) {
        atomic_abort(&af);
        return ok ? error_set(err, "%s: write failed: %s", path, strerror(sink.error))
                  : error_set(err, "%s: PNG encoding failed (out of memory?)", path);
    }
    return atomic_commit(&af, err);
}

// Whether every Huffman table of a JPEG (file at its start) declares at most
// 256 codes. stb_image 2.27 (Debian 12's) writes past the end of its tables
// when one declares more, in stbi_info as much as in the decoder, so such a
// file is refused before stb reads it. Walks the marker segments as stb does,
// skipping the entropy-coded data after each scan (progressive files define
// tables between scans). Not a JPEG: true. The file is left at its start.
static bool jpeg_huffman_ok(FILE *f) {
    bool ok = true;
    if (getc(f) != 0xFF || getc(f) != 0xD8) goto done;
    for (int c; ok && (c = getc(f)) != EOF;) {
        if (c != 0xFF) continue; // entropy-coded data
        int m;
        while ((m = getc(f)) == 0xFF) {} // fill bytes
        if (m == EOF || m == 0xD9) break; // the end of the image
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue; // no length
        int hi = getc(f), lo = getc(f);
        if (lo == EOF) break;
        long L = (hi << 8 | lo) - 2;
        if (m != 0xC4) {
            if (L < 0 || fseek(f, L, SEEK_CUR) != 0) break;
            continue;
        }
        while (ok && L > 0) { // DHT: tables of a class byte, 16 counts, the codes
            int n = 0, count = getc(f); // the class byte first
            for (int i = 0; i < 16 && count != EOF; i++)
                if ((count = getc(f)) != EOF) n += count;
            ok = n <= 256; // past the end stb reads zeros: the counts so far count
            if (count == EOF || fseek(f, n, SEEK_CUR) != 0) break;
            L -= 17 + n;
        }
    }
done:
    rewind(f);
    return ok;
}

// Checks the header before decoding, so a corrupt or hostile size is refused.
// Whether the file starts as a PNG (its 8-byte signature) or a JPEG (FF D8 FF)
// does: stb_image would also decode BMP, GIF, PSD, TGA, HDR, PIC and PNM, more
// decoders for a hostile file to reach than the two this reads. The file is
// left at its start.
static bool png_or_jpeg(FILE *f) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char head[8] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    rewind(f);
    return (got == 8 && memcmp(head, png, 8) == 0) ||
           (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF);
}

static bool check_size(const char *path, FILE *file, Error *err) {
    if (!png_or_jpeg(file)) return error_set(err, "%s: not a PNG or JPEG file", path);
    if (!jpeg_huffman_ok(file))
        return error_set(err, "%s: corrupt JPEG (a Huffman table of more than 256 codes)", path);
    int w, h, n;
    if (!stbi_info_from_file(file, &w, &h, &n))
        return error_set(err, "%s: cannot read as PNG or JPEG (%s)", path, stbi_failure_reason());
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || (long)w * h > MAX_PIXELS)
        return error_set(err,
                         "%s: image is %dx%d pixels; at most %dx%d and %ld pixels in all "
                         "are read",
                         path, w, h, MAX_SIDE, MAX_SIDE, MAX_PIXELS);
    return true;
}

bool image_read(const char *path, int channels, Image *out, Error *err) {
    assert(channels == 1 || channels == 3);
    FILE *file = input_open(path, err);
    if (file == NULL) return false;
    bool ok = check_size(path, file, err);
    int w, h, n;
    unsigned char *pixels = ok ? stbi_load_from_file(file, &w, &h, &n, channels) : NULL;
    fclose(file);
    if (!ok) return false;
    if (pixels == NULL)
        return error_set(err, "%s: cannot decode image (%s)", path, stbi_failure_reason());
    *out = image_new(w, h, channels);
    memcpy(out->pixels, pixels, image_bytes(out));
    stbi_image_free(pixels);
    return true;
}

// ---- float arrays to pictures and back ---------------------------------------

// v in [0, 1] (clamped; NaN gives 0) to 0..255.
static unsigned char to_byte(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

Image image_from_gray(const float *x, int H, int W, float lo, float hi) {
    // x (H,W)
    assert(hi > lo);
    Image img = image_new(W, H, 1);
    for (int i = 0; i < H * W; i++) img.pixels[i] = to_byte((x[i] - lo) / (hi - lo));
    return img;
}

Image image_heatmap(const float *x, int H, int W, float lo, float hi) {
    // x (H,W)
    assert(hi > lo);
    Image img = image_new(W, H, 3);
    for (int i = 0; i < H * W; i++) {
        Rgb c = colormap_viridis((x[i] - lo) / (hi - lo));
        unsigned char *p = img.pixels + 3 * i;
        p[0] = c.r, p[1] = c.g, p[2] = c.b;
    }
    return img;
}

Image image_from_planes(const float *x, int Cin, int H, int W) {
    // x (Cin,H,W) -> pixels (H,W,Cin)
    Image img = image_new(W, H, Cin);
    for (int c = 0; c < Cin; c++)
        for (int i = 0; i < H * W; i++) img.pixels[i * Cin + c] = to_byte(x[c * H * W + i]);
    return img;
}

void image_to_planes(const Image *img, float *out) {
    // pixels (H,W,C) -> out (C,H,W)
    int C = img->channels, HW = img->width * img->height;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < HW; i++) out[c * HW + i] = img->pixels[i * C + c] / 255.0f;
}

// ---- resizing ---------------------------------------------------------------

Image image_to_rgb(const Image *img) {
    Image rgb = image_new(img->width, img->height, 3);
    int C = img->channels;
    for (int i = 0; i < img->width * img->height; i++)
        for (int c = 0; c < 3; c++) rgb.pixels[3 * i + c] = img->pixels[i * C + (C == 3 ? c : 0)];
    return rgb;
}

Image image_upscale(const Image *img, int scale) {
    assert(scale >= 1);
    int C = img->channels;
    Image big = image_new(img->width * scale, img->height * scale, C);
    for (int y = 0; y < big.height; y++)
        for (int x = 0; x < big.width; x++)
            memcpy(big.pixels + ((size_t)y * big.width + x) * C,
                   img->pixels + ((size_t)(y / scale) * img->width + x / scale) * C, (size_t)C);
    return big;
}

// The w x h region of img starting at (x0, y0), resampled to width x height.
static Image resize_region(const Image *img, int x0, int y0, int w, int h, int width, int height) {
    Image out = image_new(width, height, img->channels);
    int stride = img->width * img->channels;
    const unsigned char *start = img->pixels + (size_t)y0 * stride + (size_t)x0 * img->channels;
    if (!stbir_resize_uint8(start, w, h, stride, out.pixels, width, height, 0, img->channels)) {
        fprintf(stderr, "out of memory resizing %dx%d to %dx%d\n", w, h, width, height);
        exit(1);
    }
    return out;
}

Image image_resize(const Image *img, int width, int height) {
    return resize_region(img, 0, 0, img->width, img->height, width, height);
}

Image image_square(const Image *img, int side) {
    int s = img->width < img->height ? img->width : img->height;
    return resize_region(img, (img->width - s) / 2, (img->height - s) / 2, s, s, side, side);
}

// ---- drawing ----------------------------------------------------------------

void image_fill_rect(Image *img, int x, int y, int w, int h, Rgb color) {
    // clipped to the image; a gray image gets the colour's luminance
    int x1 = x + w < img->width ? x + w : img->width;
    int y1 = y + h < img->height ? y + h : img->height;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    unsigned char gray = (unsigned char)((299 * color.r + 587 * color.g + 114 * color.b) / 1000);
    for (int row = y; row < y1; row++)
        for (int col = x; col < x1; col++) {
            unsigned char *p = img->pixels + ((size_t)row * img->width + col) * img->channels;
            if (img->channels == 1)
                p[0] = gray;
            else
                p[0] = color.r, p[1] = color.g, p[2] = color.b;
        }
}

// A line of `thickness` pixels centred on position `at`, kept inside [0, size).
static int line_start(int at, int thickness, int size) {
    int start = at - thickness / 2;
    if (start > size - thickness) start = size - thickness;
    return start < 0 ? 0 : start;
}

void image_draw_grid(Image *img, int cell, int thickness, Rgb color) {
    assert(cell >= 1 && thickness >= 1);
    int W = img->width, H = img->height;
    for (int at = 0; at < W + cell; at += cell) // the last line is at the right edge
        image_fill_rect(img, line_start(at < W ? at : W, thickness, W), 0, thickness, H, color);
    for (int at = 0; at < H + cell; at += cell)
        image_fill_rect(img, 0, line_start(at < H ? at : H, thickness, H), W, thickness, color);
}

Image image_grid(const Image *tiles, int count, int columns, int border, Rgb border_color) {
    assert(count >= 1 && columns >= 1 && border >= 0);
    int tw = tiles[0].width, th = tiles[0].height;
    int cols = count < columns ? count : columns, rows = (count + columns - 1) / columns;
    Image grid = image_new(cols * tw + (cols + 1) * border, rows * th + (rows + 1) * border, 3);
    image_fill_rect(&grid, 0, 0, grid.width, grid.height, border_color);
    for (int t = 0; t < count; t++) {
        assert(tiles[t].width == tw && tiles[t].height == th);
        Image rgb = image_to_rgb(&tiles[t]);
        int x0 = border + (t % columns) * (tw + border);
        int y0 = border + (t / columns) * (th + border);
        for (int y = 0; y < th; y++)
            memcpy(grid.pixels + ((size_t)(y0 + y) * grid.width + x0) * 3,
                   rgb.pixels + (size_t)y * tw * 3, (size_t)tw * 3);
        image_free(&rgb);
    }
    return grid;
}
