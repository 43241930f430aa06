// image.c — 8-bit pictures: PNG writing (stb_image_write, into an AtomicFile),
// PNG reading (libpng) and JPEG reading (libjpeg-turbo), smooth resizing
// (stb_image_resize), and the renderings and drawing helpers the chapters use.
#include "image.h"

#include <assert.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "files.h"

// image_read and image_decode refuse:
#define MAX_SIDE   16384      // pictures wider or higher than this
#define MAX_PIXELS (1L << 26) // ... or with more pixels than this (64 M)
#define MAX_BYTES  (1L << 28) // files larger than this (256 MiB)
#define MAX_SCANS  500        // progressive JPEGs of more scans than this

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

// ---- reading: PNG through libpng, JPEG through libjpeg-turbo -------------------
//
// Both libraries report a fatal problem by calling a handler that must not
// return; ours copies the library's message and longjmps back to a small
// function that only calls setjmp and the decoding steps. Everything those
// steps change lives in a struct its caller owns, so nothing is left
// indeterminate by the jump, and the caller frees what was made.

// Whether a picture of width x height, as its header declares, may be decoded.
static bool check_pixels(const char *name, uint64_t width, uint64_t height, Error *err) {
    if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE ||
        width * height > MAX_PIXELS)
        return error_set(err,
                         "%s: image is %llux%llu pixels; at most %dx%d and %ld pixels in all "
                         "are read",
                         name, (unsigned long long)width, (unsigned long long)height, MAX_SIDE,
                         MAX_SIDE, MAX_PIXELS);
    return true;
}

// An RGB picture as gray: the luma of ITU-R BT.601, 0.299 R + 0.587 G + 0.114 B,
// rounded (a gray pixel stored as RGB, R = G = B, comes back exactly).
static Image gray_from_rgb(const Image *rgb) {
    Image gray = image_new(rgb->width, rgb->height, 1);
    for (size_t i = 0; i < (size_t)rgb->width * rgb->height; i++) {
        const unsigned char *p = rgb->pixels + 3 * i;
        gray.pixels[i] = (unsigned char)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
    }
    return gray;
}

// img as `channels` channels; img itself is taken (freed if a copy is made).
static Image with_channels(Image img, int channels) {
    if (img.channels == channels) return img;
    Image converted = channels == 3 ? image_to_rgb(&img) : gray_from_rgb(&img);
    image_free(&img);
    return converted;
}

// -- PNG --

typedef struct {
    const unsigned char *bytes; // the whole file
    size_t size, at;            // its length, and how much libpng has read
    png_structp png;            // libpng's reader, and the header it fills in
    png_infop info;
    png_bytep *rows;            // (height) pointers into img.pixels
    Image img;                  // the picture, 8-bit gray or RGB, as it decodes
    jmp_buf jump;               // where png_fail returns to
    char message[200];          // libpng's reason, when it failed
} PngRead;

static void png_fail(png_structp png, png_const_charp message) {
    PngRead *r = png_get_error_ptr(png);
    snprintf(r->message, sizeof r->message, "%s", message);
    longjmp(r->jump, 1);
}

// libpng only warns about what it can skip with the pixels whole: a damaged
// ancillary chunk, compressed data left over after the last row.
static void png_warning_skipped(png_structp png, png_const_charp message) {
    (void)png, (void)message;
}

static void png_read_bytes(png_structp png, png_bytep data, size_t length) {
    PngRead *r = png_get_io_ptr(png);
    if (length > r->size - r->at) png_error(png, "the file ends early");
    memcpy(data, r->bytes + r->at, length);
    r->at += length;
}

// Reads the header, checks the size, then decodes as 8-bit gray or RGB:
// 16-bit samples keep their high byte, palette indices become their colours,
// 1, 2 and 4-bit gray is stretched to 0..255, alpha (and tRNS) is dropped.
// Every chunk but IHDR, PLTE, tRNS, IDAT and IEND is skipped unread.
static bool png_decode_steps(PngRead *r, const char *name, Error *err) {
    png_set_read_fn(r->png, r, png_read_bytes);
    png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_user_limits(r->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX); // check_pixels says no
    png_read_info(r->png, r->info);
    png_uint_32 W = png_get_image_width(r->png, r->info), H = png_get_image_height(r->png, r->info);
    if (!check_pixels(name, W, H, err)) return false;
    png_set_strip_16(r->png);
    png_set_palette_to_rgb(r->png);
    png_set_expand_gray_1_2_4_to_8(r->png);
    png_set_strip_alpha(r->png);
    png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    int C = png_get_channels(r->png, r->info);
    if (png_get_bit_depth(r->png, r->info) != 8 || (C != 1 && C != 3) ||
        png_get_rowbytes(r->png, r->info) != (size_t)W * C)
        png_error(r->png, "an unexpected pixel layout after conversion");
    r->img = image_new((int)W, (int)H, C);
    r->rows = xmalloc(H * sizeof *r->rows);
    for (png_uint_32 y = 0; y < H; y++) r->rows[y] = r->img.pixels + (size_t)y * W * C;
    png_read_image(r->png, r->rows);
    png_read_end(r->png, NULL); // the last CRC and the end of the file
    return true;
}

static bool png_decode_or_jump(PngRead *r, const char *name, Error *err) {
    if (setjmp(r->jump)) return error_set(err, "%s: corrupt PNG (%s)", name, r->message);
    return png_decode_steps(r, name, err);
}

// A PNG as 8-bit gray (1 channel) or RGB (3), whichever it holds.
static bool png_decode(const unsigned char *bytes, size_t size, const char *name, Image *out,
                       Error *err) {
    PngRead r = {.bytes = bytes, .size = size};
    r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_fail, png_warning_skipped);
    r.info = r.png != NULL ? png_create_info_struct(r.png) : NULL;
    bool ok = r.info != NULL ? png_decode_or_jump(&r, name, err)
                             : error_set(err, "%s: out of memory starting libpng", name);
    png_destroy_read_struct(&r.png, &r.info, NULL);
    free(r.rows);
    if (ok)
        *out = r.img;
    else
        image_free(&r.img);
    return ok;
}

// -- JPEG --

typedef struct {
    struct jpeg_decompress_struct cinfo; // libjpeg's decoder; client_data points here
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    Image img;                     // the picture, as it decodes
    jmp_buf jump;                  // where jpeg_fail returns to
    char message[JMSG_LENGTH_MAX]; // libjpeg's reason, when it failed
    bool corrupt;                  // the reason is a warning about damaged data
} JpegRead;

static _Noreturn void jpeg_fail(j_common_ptr cinfo) {
    JpegRead *r = cinfo->client_data;
    cinfo->err->format_message(cinfo, r->message);
    longjmp(r->jump, 1);
}

// A warning (level -1) means damaged data that libjpeg would decode anyway,
// giving wrong pixels: refused like an error. Trace messages are dropped.
static void jpeg_warning_fails(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    ((JpegRead *)cinfo->client_data)->corrupt = true;
    jpeg_fail(cinfo);
}

// Called as the input is read: refuses a progressive JPEG of more than MAX_SCANS
// scans (each can make the decoder pass over the whole picture again).
static void jpeg_count_scans(j_common_ptr cinfo) {
    JpegRead *r = cinfo->client_data;
    if (r->cinfo.input_scan_number <= MAX_SCANS) return;
    snprintf(r->message, sizeof r->message, "more than %d progressive scans", MAX_SCANS);
    longjmp(r->jump, 1);
}

// Reads the header, checks the size and the colours, then decodes as
// `channels` channels (gray from a colour JPEG is its luma, Y).
static bool jpeg_decode_steps(JpegRead *r, const unsigned char *bytes, size_t size,
                              const char *name, int channels, Error *err) {
    j_decompress_ptr d = &r->cinfo;
    jpeg_mem_src(d, bytes, (unsigned long)size);
    jpeg_read_header(d, TRUE);
    if (!check_pixels(name, d->image_width, d->image_height, err)) return false;
    J_COLOR_SPACE cs = d->jpeg_color_space;
    if (cs != JCS_GRAYSCALE && cs != JCS_YCbCr && cs != JCS_RGB)
        return error_set(err, "%s: a %s JPEG; only gray and colour (YCbCr or RGB) JPEGs are read",
                         name, cs == JCS_CMYK || cs == JCS_YCCK ? "CMYK" : "multi-channel");
    d->out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(d);
    assert(d->output_components == channels && d->output_width == d->image_width);
    r->img = image_new((int)d->output_width, (int)d->output_height, channels);
    size_t stride = (size_t)d->output_width * channels;
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = r->img.pixels + d->output_scanline * stride;
        jpeg_read_scanlines(d, &row, 1);
    }
    jpeg_finish_decompress(d); // the rest of the data, to the end-of-image marker
    return true;
}

static bool jpeg_decode_or_jump(JpegRead *r, const unsigned char *bytes, size_t size,
                                const char *name, int channels, Error *err) {
    if (setjmp(r->jump)) {
        const char *why = r->message, *prefix = "Corrupt JPEG data: ";
        if (strncmp(why, prefix, strlen(prefix)) == 0) why += strlen(prefix);
        return error_set(err, "%s: %s (%s)", name, r->corrupt ? "corrupt JPEG data" : "bad JPEG",
                         why);
    }
    jpeg_create_decompress(&r->cinfo); // clears all but err and client_data
    r->cinfo.progress = &r->progress;
    return jpeg_decode_steps(r, bytes, size, name, channels, err);
}

// A JPEG as `channels` channels (1 or 3).
static bool jpeg_decode(const unsigned char *bytes, size_t size, const char *name, int channels,
                        Image *out, Error *err) {
    JpegRead r = {.img = {0}};
    r.cinfo.err = jpeg_std_error(&r.errors);
    r.errors.error_exit = jpeg_fail;
    r.errors.emit_message = jpeg_warning_fails;
    r.progress.progress_monitor = jpeg_count_scans;
    r.cinfo.client_data = &r;
    bool ok = jpeg_decode_or_jump(&r, bytes, size, name, channels, err);
    jpeg_destroy_decompress(&r.cinfo);
    if (ok)
        *out = r.img;
    else
        image_free(&r.img);
    return ok;
}

// -- either --

static bool is_png(const unsigned char *bytes, size_t size) {
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return size >= 8 && memcmp(bytes, signature, 8) == 0;
}

static bool is_jpeg(const unsigned char *bytes, size_t size) {
    return size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

bool image_decode(const unsigned char *bytes, size_t size, const char *name, int channels,
                  Image *out, Error *err) {
    assert(channels == 1 || channels == 3);
    Image img;
    bool ok = is_png(bytes, size)    ? png_decode(bytes, size, name, &img, err)
              : is_jpeg(bytes, size) ? jpeg_decode(bytes, size, name, channels, &img, err)
                                     : error_set(err, "%s: not a PNG or JPEG file", name);
    if (ok) *out = with_channels(img, channels);
    return ok;
}

// The size of an open file, refused if larger than MAX_BYTES.
static bool file_size(FILE *file, const char *path, size_t *size, Error *err) {
    struct stat st;
    if (fstat(fileno(file), &st) != 0)
        return error_set(err, "%s: cannot read its size: %s", path, strerror(errno));
    if (st.st_size > MAX_BYTES)
        return error_set(err, "%s: file is %lld bytes; at most %ld are read", path,
                         (long long)st.st_size, MAX_BYTES);
    *size = (size_t)st.st_size;
    return true;
}

// The whole of a regular file, at most MAX_BYTES, into *bytes (malloc'd).
static bool read_whole(const char *path, unsigned char **bytes, size_t *size, Error *err) {
    FILE *file = input_open(path, err);
    if (file == NULL) return false;
    size_t expected = 0;
    if (!file_size(file, path, &expected, err)) {
        fclose(file);
        return false;
    }
    *bytes = xmalloc(expected + 1);
    *size = fread(*bytes, 1, expected + 1, file); // one more: did it grow?
    int failed = ferror(file) ? errno : 0;
    fclose(file);
    if (failed == 0 && *size == expected) return true;
    free(*bytes);
    return failed != 0 ? error_set(err, "%s: read failed: %s", path, strerror(failed))
                       : error_set(err, "%s: the file changed while it was read", path);
}

bool image_read(const char *path, int channels, Image *out, Error *err) {
    assert(channels == 1 || channels == 3);
    unsigned char *bytes;
    size_t size;
    if (!read_whole(path, &bytes, &size, err)) return false;
    bool ok = image_decode(bytes, size, path, channels, out, err);
    free(bytes);
    return ok;
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
