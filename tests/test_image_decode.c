// test_image_decode.c — image_read's decoders (libpng, libjpeg-turbo) on files
// made here byte by byte or through libjpeg's encoder: what each PNG flavour
// decodes to (16-bit, palette, 1-bit gray, alpha and tRNS, interlaced), gray
// and RGB conversions against known values, and the refusals: sizes declared
// too large (refused from the header), cut and corrupt data, CMYK, too many
// progressive scans, formats other than PNG and JPEG, a file too large to read.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jpeglib.h>
#include <zlib.h>
#include <criterion/criterion.h>
#include "check.h"
#include "image.h"
#include "scratch.h"

TestSuite(image_decode, .init = scratch_setup, .fini = scratch_teardown);

// ---- PNG files made by hand ----------------------------------------------------------

typedef struct {
    unsigned char *bytes; // malloc'd, grown as bytes are added
    size_t size;
} Buffer;

static void buffer_add(Buffer *b, const void *data, size_t n) {
    b->bytes = realloc(b->bytes, b->size + n + 1);
    cr_assert(b->bytes != NULL);
    if (n > 0) memcpy(b->bytes + b->size, data, n);
    b->size += n;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

// A chunk: its length, type, data and the CRC of type and data.
static void png_chunk(Buffer *b, const char *type, const void *data, size_t n) {
    unsigned char head[8], crc[4];
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uLong c = crc32(crc32(0, head + 4, 4), n > 0 ? data : (const void *)"", (uInt)n);
    put_be32(crc, (uint32_t)c);
    buffer_add(b, head, 8);
    buffer_add(b, data, n);
    buffer_add(b, crc, 4);
}

typedef struct {
    uint32_t width, height;
    int depth, color_type, interlace; // IHDR's fields (color_type 0 gray, 2 RGB, 3 palette, ...)
    const void *palette;              // PLTE's data, or NULL
    size_t palette_size;
    const void *trns; // tRNS's data, or NULL
    size_t trns_size;
    const void *raw; // the scanlines, each after its filter byte, before compression
    size_t raw_size;
} PngSpec;

static Buffer png_bytes(const PngSpec *s) {
    Buffer b = {0};
    buffer_add(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13];
    put_be32(ihdr, s->width);
    put_be32(ihdr + 4, s->height);
    ihdr[8] = (unsigned char)s->depth, ihdr[9] = (unsigned char)s->color_type;
    ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = (unsigned char)s->interlace;
    png_chunk(&b, "IHDR", ihdr, 13);
    if (s->palette != NULL) png_chunk(&b, "PLTE", s->palette, s->palette_size);
    if (s->trns != NULL) png_chunk(&b, "tRNS", s->trns, s->trns_size);
    uLongf packed = compressBound((uLong)s->raw_size);
    unsigned char *idat = malloc(packed);
    cr_assert(compress(idat, &packed, s->raw, (uLong)s->raw_size) == Z_OK);
    png_chunk(&b, "IDAT", idat, packed);
    free(idat);
    png_chunk(&b, "IEND", NULL, 0);
    return b;
}

static void write_png_spec(const char *path, const PngSpec *s) {
    Buffer b = png_bytes(s);
    write_whole_file(path, b.bytes, b.size);
    free(b.bytes);
}

// rows of rowbytes bytes each, every one after a filter byte 0 (none); malloc'd.
static unsigned char *unfiltered(const void *rows, size_t rowbytes, int count, size_t *size) {
    *size = (rowbytes + 1) * (size_t)count;
    unsigned char *raw = malloc(*size);
    for (int y = 0; y < count; y++) {
        raw[y * (rowbytes + 1)] = 0;
        memcpy(raw + y * (rowbytes + 1) + 1, (const unsigned char *)rows + y * rowbytes, rowbytes);
    }
    return raw;
}

// A PNG of the 8-bit pixels (H,W,C) with the given colour type, as raw data, read back.
static Image read_png(const char *name, const PngSpec *spec, int channels) {
    char path[1024];
    write_png_spec(scratch_path(path, name), spec);
    Image img;
    Error err;
    cr_assert(image_read(path, channels, &img, &err), "%s", err.message);
    cr_assert(img.width == (int)spec->width && img.height == (int)spec->height &&
                  img.channels == channels,
              "read %dx%dx%d", img.width, img.height, img.channels);
    return img;
}

static unsigned char luma(const unsigned char *rgb) {
    return (unsigned char)((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
}

// The error image_read gives for path; it must name path.
static const char *read_error(const char *path, int channels) {
    static Error err;
    err = (Error){{0}};
    Image img = {0};
    bool ok = image_read(path, channels, &img, &err);
    if (ok) image_free(&img);
    cr_assert_not(ok, "%s was read as a picture", path);
    expect_mentions(err.message, path);
    return err.message;
}

// ---- PNG flavours -------------------------------------------------------------------

Test(image_decode, a_16_bit_png_keeps_the_high_byte) {
    const unsigned char gray16[2][4] = {{0x12, 0x34, 0xAB, 0xCD}, {0xFF, 0x00, 0x00, 0xFF}};
    size_t n;
    unsigned char *raw = unfiltered(gray16, 4, 2, &n);
    PngSpec spec = {.width = 2, .height = 2, .depth = 16, .color_type = 0, .raw = raw, .raw_size = n};
    Image img = read_png("gray16.png", &spec, 1);
    expect_bytes_equal("gray", img.pixels, ((unsigned char[]){0x12, 0xAB, 0xFF, 0x00}), 4);
    image_free(&img);
    free(raw);
    const unsigned char rgb16[12] = {0x10, 1, 0x20, 2, 0x30, 3, 0xF0, 4, 0xE0, 5, 0xD0, 6};
    raw = unfiltered(rgb16, 12, 1, &n);
    spec = (PngSpec){.width = 2, .height = 1, .depth = 16, .color_type = 2, .raw = raw, .raw_size = n};
    img = read_png("rgb16.png", &spec, 3);
    expect_bytes_equal("RGB", img.pixels, ((unsigned char[]){0x10, 0x20, 0x30, 0xF0, 0xE0, 0xD0}), 6);
    image_free(&img);
    free(raw);
}

Test(image_decode, a_palette_png_gives_its_colours_as_rgb_and_as_gray) {
    const unsigned char palette[9] = {255, 0, 0, 0, 255, 0, 10, 20, 30};
    const unsigned char indices[2] = {0x20, 0x10}; // 4 bits each: 2, 0, 1, (padding)
    size_t n;
    unsigned char *raw = unfiltered(indices, 2, 1, &n);
    PngSpec spec = {.width = 3, .height = 1, .depth = 4, .color_type = 3, .palette = palette,
                    .palette_size = 9, .raw = raw, .raw_size = n};
    const unsigned char want[9] = {10, 20, 30, 255, 0, 0, 0, 255, 0};
    Image rgb = read_png("palette.png", &spec, 3);
    expect_bytes_equal("RGB", rgb.pixels, want, 9);
    Image gray = read_png("palette.png", &spec, 1);
    const unsigned char want_gray[3] = {luma(want), luma(want + 3), luma(want + 6)};
    expect_bytes_equal("gray", gray.pixels, want_gray, 3);
    cr_assert_eq(want_gray[1], 76, "0.299 * 255 rounds to 76");
    image_free(&rgb);
    image_free(&gray);
    free(raw);
}

Test(image_decode, a_1_bit_gray_png_is_stretched_to_black_and_white) {
    const unsigned char bits[1] = {0xB0}; // 1011 0000
    size_t n;
    unsigned char *raw = unfiltered(bits, 1, 1, &n);
    PngSpec spec = {.width = 8, .height = 1, .depth = 1, .color_type = 0, .raw = raw, .raw_size = n};
    Image img = read_png("bits.png", &spec, 1);
    expect_bytes_equal("gray", img.pixels, ((unsigned char[]){255, 0, 255, 255, 0, 0, 0, 0}), 8);
    image_free(&img);
    free(raw);
}

// As image.h says: alpha and tRNS are dropped, the stored colour kept.
Test(image_decode, alpha_and_transparency_are_dropped_keeping_the_stored_colour) {
    const unsigned char rgba[8] = {10, 20, 30, 0, 40, 50, 60, 255};
    size_t n;
    unsigned char *raw = unfiltered(rgba, 8, 1, &n);
    PngSpec spec = {.width = 2, .height = 1, .depth = 8, .color_type = 6, .raw = raw, .raw_size = n};
    Image img = read_png("rgba.png", &spec, 3);
    expect_bytes_equal("RGBA as RGB", img.pixels, ((unsigned char[]){10, 20, 30, 40, 50, 60}), 6);
    image_free(&img);
    free(raw);
    const unsigned char gray_alpha[4] = {7, 0, 9, 128};
    raw = unfiltered(gray_alpha, 4, 1, &n);
    spec = (PngSpec){.width = 2, .height = 1, .depth = 8, .color_type = 4, .raw = raw, .raw_size = n};
    img = read_png("gray-alpha.png", &spec, 1);
    expect_bytes_equal("gray+alpha as gray", img.pixels, ((unsigned char[]){7, 9}), 2);
    image_free(&img);
    free(raw);
    const unsigned char palette[6] = {1, 2, 3, 4, 5, 6}, trns[1] = {0}, indices[2] = {1, 0};
    raw = unfiltered(indices, 2, 1, &n);
    spec = (PngSpec){.width = 2, .height = 1, .depth = 8, .color_type = 3, .palette = palette,
                     .palette_size = 6, .trns = trns, .trns_size = 1, .raw = raw, .raw_size = n};
    img = read_png("palette-trns.png", &spec, 3);
    expect_bytes_equal("palette+tRNS as RGB", img.pixels, ((unsigned char[]){4, 5, 6, 1, 2, 3}), 6);
    image_free(&img);
    free(raw);
}

// The Adam7 passes of pixels (H,W,C), 8-bit, each row after a filter byte 0; malloc'd.
static unsigned char *adam7(const unsigned char *pixels, int W, int H, int C, size_t *size) {
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, dx[7] = {8, 8, 4, 4, 2, 2, 1};
    static const int y0[7] = {0, 0, 4, 0, 2, 0, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    unsigned char *raw = malloc((size_t)H * (W * C + 1) * 2), *at = raw;
    for (int p = 0; p < 7; p++) {
        if (x0[p] >= W) continue; // an empty pass has no rows at all
        for (int y = y0[p]; y < H; y += dy[p]) {
            *at++ = 0;
            for (int x = x0[p]; x < W; x += dx[p], at += C)
                memcpy(at, pixels + ((size_t)y * W + x) * C, (size_t)C);
        }
    }
    *size = (size_t)(at - raw);
    return raw;
}

Test(image_decode, an_interlaced_png_reads_like_a_plain_one) {
    enum { W = 11, H = 7 };
    unsigned char pixels[H * W * 3];
    for (int i = 0; i < H * W * 3; i++) pixels[i] = (unsigned char)(i * 37 % 251);
    size_t n;
    unsigned char *raw = adam7(pixels, W, H, 3, &n);
    PngSpec spec = {.width = W, .height = H, .depth = 8, .color_type = 2, .interlace = 1,
                    .raw = raw, .raw_size = n};
    Image img = read_png("interlaced.png", &spec, 3);
    expect_bytes_equal("pixels", img.pixels, pixels, H * W * 3);
    image_free(&img);
    free(raw);
}

Test(image_decode, an_rgb_png_read_as_gray_is_its_luma) {
    enum { W = 6, H = 5 };
    Image rgb = image_new(W, H, 3);
    for (int i = 0; i < W * H * 3; i++) rgb.pixels[i] = (unsigned char)(i * 53 % 256);
    char path[1024];
    Error err;
    cr_assert(image_write_png(scratch_path(path, "rgb.png"), &rgb, &err), "%s", err.message);
    Image gray;
    cr_assert(image_read(path, 1, &gray, &err), "%s", err.message);
    unsigned char want[W * H];
    for (int i = 0; i < W * H; i++) want[i] = luma(rgb.pixels + 3 * i);
    expect_bytes_equal("gray", gray.pixels, want, W * H);
    image_free(&rgb);
    image_free(&gray);
}

// ---- PNG refusals --------------------------------------------------------------------

// Only the header is real: decoding would fail on the 2-byte IDAT, so a message
// about the size shows it was refused before.
Test(image_decode, a_png_declaring_16384x16384_is_refused_from_its_header) {
    const unsigned char raw[2] = {0, 0};
    PngSpec spec = {.width = 16384, .height = 16384, .depth = 8, .color_type = 0, .raw = raw,
                    .raw_size = 2};
    char path[1024];
    write_png_spec(scratch_path(path, "huge.png"), &spec);
    const char *message = read_error(path, 3);
    expect_mentions(message, "16384x16384 pixels");
    expect_mentions(message, "67108864 pixels in all");
    spec.width = 0x7FFFFFFF, spec.height = 1; // the largest width PNG allows
    write_png_spec(path, &spec);
    expect_mentions(read_error(path, 1), "2147483647x1 pixels; at most 16384x16384");
}

Test(image_decode, a_png_cut_anywhere_is_refused) {
    enum { W = 40, H = 30 };
    unsigned char pixels[H * W * 3];
    for (int i = 0; i < H * W * 3; i++) pixels[i] = (unsigned char)(i * 29 % 256);
    size_t n;
    unsigned char *raw = unfiltered(pixels, W * 3, H, &n);
    Buffer whole = png_bytes(&(PngSpec){.width = W, .height = H, .depth = 8, .color_type = 2,
                                        .raw = raw, .raw_size = n});
    char path[1024];
    scratch_path(path, "cut.png");
    for (size_t cut = 0; cut < whole.size; cut += cut < 60 ? 1 : 97) {
        write_whole_file(path, whole.bytes, cut);
        const char *message = read_error(path, 3);
        if (cut >= 8) expect_mentions(message, "corrupt PNG");
    }
    write_whole_file(path, whole.bytes, whole.size - 1); // IEND's CRC cut
    expect_mentions(read_error(path, 3), "corrupt PNG (the file ends early)");
    free(whole.bytes);
    free(raw);
}

Test(image_decode, a_png_with_a_bad_crc_in_its_pixel_data_is_refused) {
    unsigned char pixels[4] = {1, 2, 3, 4};
    size_t n;
    unsigned char *raw = unfiltered(pixels, 2, 2, &n);
    Buffer b = png_bytes(&(PngSpec){.width = 2, .height = 2, .depth = 8, .color_type = 0,
                                    .raw = raw, .raw_size = n});
    b.bytes[b.size - 12 - 1] ^= 1; // the last byte of IDAT's CRC (IEND is the last 12 bytes)
    char path[1024];
    write_whole_file(scratch_path(path, "crc.png"), b.bytes, b.size);
    expect_mentions(read_error(path, 1), "CRC");
    free(b.bytes);
    free(raw);
}

// ---- JPEG files made through libjpeg ------------------------------------------------

typedef struct {
    int quality;
    bool progressive;            // libjpeg's usual progressive script
    const jpeg_scan_info *scans; // or a script of one's own (NULL: baseline)
    int num_scans;
} JpegOptions;

// pixels (H,W,C) as a JPEG: C = 1 gray, 3 RGB (stored as YCbCr), 4 CMYK.
static void write_jpeg(const char *path, const unsigned char *pixels, int W, int H, int C,
                       JpegOptions o) {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "cannot write %s", path);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr errors;
    c.err = jpeg_std_error(&errors);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)W, c.image_height = (JDIMENSION)H, c.input_components = C;
    c.in_color_space = C == 1 ? JCS_GRAYSCALE : C == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, o.quality, TRUE);
    if (o.progressive) jpeg_simple_progression(&c);
    if (o.scans != NULL) c.scan_info = o.scans, c.num_scans = o.num_scans;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)pixels + (size_t)c.next_scanline * W * C;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    cr_assert_eq(fclose(f), 0);
}

// A smooth picture (H,W,C): JPEG keeps it within a few levels. malloc'd.
static unsigned char *smooth(int W, int H, int C) {
    unsigned char *p = malloc((size_t)W * H * C);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++)
                p[((size_t)y * W + x) * C + c] = (unsigned char)(40 + 4 * x + 3 * y + 50 * c);
    return p;
}

static Image read_ok(const char *path, int channels) {
    Image img;
    Error err;
    cr_assert(image_read(path, channels, &img, &err), "%s", err.message);
    return img;
}

static void expect_near(const char *what, const unsigned char *got, const unsigned char *want,
                        int n, int tolerance) {
    for (int i = 0; i < n; i++)
        cr_assert(abs(got[i] - want[i]) <= tolerance, "%s: [%d] is %d, want %d (within %d)", what,
                  i, got[i], want[i], tolerance);
}

// ---- JPEG flavours ------------------------------------------------------------------

Test(image_decode, a_gray_jpeg_read_as_rgb_repeats_its_gray) {
    enum { W = 16, H = 8 };
    unsigned char *pixels = smooth(W, H, 1);
    char path[1024];
    write_jpeg(scratch_path(path, "gray.jpg"), pixels, W, H, 1, (JpegOptions){.quality = 100});
    Image gray = read_ok(path, 1), rgb = read_ok(path, 3);
    cr_assert(gray.width == W && gray.height == H && rgb.channels == 3);
    expect_near("gray", gray.pixels, pixels, W * H, 2);
    Image want = image_to_rgb(&gray);
    expect_bytes_equal("RGB", rgb.pixels, want.pixels, W * H * 3);
    image_free(&want);
    image_free(&gray);
    image_free(&rgb);
    free(pixels);
}

Test(image_decode, a_colour_jpeg_reads_as_rgb_and_as_gray) {
    enum { W = 16, H = 16 };
    unsigned char *pixels = smooth(W, H, 3);
    char path[1024];
    write_jpeg(scratch_path(path, "rgb.jpg"), pixels, W, H, 3, (JpegOptions){.quality = 100});
    Image rgb = read_ok(path, 3), gray = read_ok(path, 1);
    expect_near("RGB", rgb.pixels, pixels, W * H * 3, 3);
    unsigned char want[W * H];
    for (int i = 0; i < W * H; i++) want[i] = luma(pixels + 3 * i);
    expect_near("gray (the JPEG's Y)", gray.pixels, want, W * H, 2);
    image_free(&rgb);
    image_free(&gray);
    free(pixels);
}

Test(image_decode, a_progressive_jpeg_reads_like_a_baseline_one) {
    enum { W = 24, H = 16 };
    unsigned char *pixels = smooth(W, H, 3);
    char path[1024];
    write_jpeg(scratch_path(path, "baseline.jpg"), pixels, W, H, 3, (JpegOptions){.quality = 95});
    Image baseline = read_ok(path, 3);
    write_jpeg(scratch_path(path, "progressive.jpg"), pixels, W, H, 3,
               (JpegOptions){.quality = 95, .progressive = true});
    Image progressive = read_ok(path, 3);
    expect_near("progressive vs baseline", progressive.pixels, baseline.pixels, W * H * 3, 1);
    image_free(&baseline);
    image_free(&progressive);
    free(pixels);
}

// ---- JPEG refusals ------------------------------------------------------------------

// A JPEG's bytes (malloc'd) and where its scan data start (after the SOS segment).
static unsigned char *jpeg_file(const char *path, long *size, long *scan_start) {
    unsigned char *bytes = (unsigned char *)read_whole_file(path, size);
    for (long i = 2; i + 4 < *size; i++)
        if (bytes[i] == 0xFF && bytes[i + 1] == 0xDA) {
            *scan_start = i + 2 + (bytes[i + 2] << 8 | bytes[i + 3]);
            return bytes;
        }
    cr_assert_fail("%s has no SOS marker", path);
    return NULL;
}

Test(image_decode, a_corrupt_jpeg_is_refused_not_decoded_into_wrong_pixels) {
    enum { W = 64, H = 64 };
    unsigned char *pixels = smooth(W, H, 3);
    char path[1024];
    write_jpeg(scratch_path(path, "good.jpg"), pixels, W, H, 3, (JpegOptions){.quality = 90});
    long size, scan;
    unsigned char *bytes = jpeg_file(path, &size, &scan);
    write_whole_file(scratch_path(path, "cut.jpg"), bytes, (size_t)(scan + 20));
    expect_mentions(read_error(path, 3), "corrupt JPEG data (Premature end of JPEG file)");
    // 64 one bits (FF 00 is a stuffed FF) in the scan: a run of 16 ones is no
    // Huffman code, so the decoder must notice wherever it is in a code
    for (long i = scan + 10; i < scan + 26; i += 2) bytes[i] = 0xFF, bytes[i + 1] = 0x00;
    write_whole_file(scratch_path(path, "flipped.jpg"), bytes, (size_t)size);
    expect_mentions(read_error(path, 3), "corrupt JPEG data (bad Huffman code)");
    expect_mentions(read_error(path, 1), "corrupt JPEG data (bad Huffman code)");
    free(bytes);
    free(pixels);
}

Test(image_decode, a_jpeg_declaring_60000x60000_is_refused_from_its_header) {
    unsigned char *pixels = smooth(8, 8, 3);
    char path[1024];
    write_jpeg(scratch_path(path, "small.jpg"), pixels, 8, 8, 3, (JpegOptions){.quality = 90});
    long size, scan;
    unsigned char *bytes = jpeg_file(path, &size, &scan);
    long sof = 2;
    while (sof + 1 < size && !(bytes[sof] == 0xFF && bytes[sof + 1] == 0xC0)) sof++;
    cr_assert(sof + 9 < size, "no SOF0 marker");
    // FF C0, length (2), precision (1), height (2), width (2): 60000 = 0xEA60
    bytes[sof + 5] = 0xEA, bytes[sof + 6] = 0x60, bytes[sof + 7] = 0xEA, bytes[sof + 8] = 0x60;
    write_whole_file(scratch_path(path, "huge.jpg"), bytes, (size_t)size);
    const char *message = read_error(path, 3);
    expect_mentions(message, "60000x60000 pixels; at most 16384x16384 and 67108864 pixels");
    free(bytes);
    free(pixels);
}

Test(image_decode, a_cmyk_jpeg_is_refused_saying_so) {
    unsigned char *pixels = smooth(8, 8, 4);
    char path[1024];
    write_jpeg(scratch_path(path, "cmyk.jpg"), pixels, 8, 8, 4, (JpegOptions){.quality = 90});
    expect_mentions(read_error(path, 3), "a CMYK JPEG; only gray and colour");
    free(pixels);
}

// 631 scans: the DC, then each of the 63 AC coefficients alone in 10 bits of
// successive approximation (a valid script, and a slow one to decode).
Test(image_decode, a_progressive_jpeg_of_more_than_500_scans_is_refused) {
    static jpeg_scan_info scans[1 + 63 * 10];
    int n = 0;
    scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = 0, .Se = 0, .Ah = 0, .Al = 0};
    for (int k = 1; k <= 63; k++) {
        scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = k, .Se = k, .Ah = 0, .Al = 9};
        for (int al = 8; al >= 0; al--)
            scans[n++] = (jpeg_scan_info){
                .comps_in_scan = 1, .Ss = k, .Se = k, .Ah = al + 1, .Al = al};
    }
    unsigned char *pixels = smooth(8, 8, 1);
    char path[1024];
    write_jpeg(scratch_path(path, "scans.jpg"), pixels, 8, 8, 1,
               (JpegOptions){.quality = 90, .scans = scans, .num_scans = n});
    expect_mentions(read_error(path, 1), "bad JPEG (more than 500 progressive scans)");
    free(pixels);
}

// Two files that made stb_image 2.27 write past its Huffman table (found by
// fuzz/image.c when stb decoded): refused as corrupt, the message from libjpeg.
Test(image_decode, jpeg_huffman_tables_of_more_than_256_codes_are_refused) {
    unsigned char jpeg[2 + 4 + 17 + 272 + 2] = {0xFF, 0xD8, 0xFF, 0xC4, 0x01, 0x23, 0x00};
    for (int i = 0; i < 16; i++) jpeg[7 + i] = 17; // 16 x 17 = 272 codes
    for (int i = 0; i < 272; i++) jpeg[23 + i] = (unsigned char)i;
    jpeg[sizeof jpeg - 2] = 0xFF, jpeg[sizeof jpeg - 1] = 0xD9;
    char path[1024];
    write_whole_file(scratch_path(path, "huffman.jpg"), jpeg, sizeof jpeg);
    expect_mentions(read_error(path, 1), "bad JPEG (Bogus Huffman table definition)");
    static const unsigned char cut[] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x40, 0x00, 200, 100};
    write_whole_file(scratch_path(path, "huffman-cut.jpg"), cut, sizeof cut);
    expect_mentions(read_error(path, 1), "corrupt JPEG data (Premature end of JPEG file)");
}

// ---- neither ------------------------------------------------------------------------

// The 34-byte PGM of issue 12 declared 16384x4096 and was decoded (400 MB).
Test(image_decode, a_pgm_is_not_a_png_or_jpeg) {
    const char pgm[] = "P5\n16384 4096\n255\n0123456789abcdef";
    char path[1024];
    write_whole_file(scratch_path(path, "big.pgm"), pgm, sizeof pgm - 1);
    expect_mentions(read_error(path, 1), ": not a PNG or JPEG file");
    write_whole_file(path, "\x89PNG\r\n\x1a", 7); // one byte short of the signature
    expect_mentions(read_error(path, 1), ": not a PNG or JPEG file");
}

// Refused from its size: the sparse file of 256 MiB + 1 is never read.
Test(image_decode, a_file_over_256_mib_is_refused_unread) {
    char path[1024];
    FILE *f = fopen(scratch_path(path, "large.png"), "wb");
    cr_assert(f != NULL);
    cr_assert_eq(ftruncate(fileno(f), (1L << 28) + 1), 0);
    fclose(f);
    expect_mentions(read_error(path, 3), "file is 268435457 bytes; at most 268435456 are read");
}

// image_decode is what image_read calls on the file's bytes.
Test(image_decode, decode_reads_bytes_in_memory_naming_them_as_told) {
    const unsigned char pixels[4] = {0, 85, 170, 255};
    size_t n;
    unsigned char *raw = unfiltered(pixels, 2, 2, &n);
    Buffer b = png_bytes(&(PngSpec){.width = 2, .height = 2, .depth = 8, .color_type = 0,
                                    .raw = raw, .raw_size = n});
    Image img;
    Error err;
    cr_assert(image_decode(b.bytes, b.size, "memory", 1, &img, &err), "%s", err.message);
    expect_bytes_equal("gray", img.pixels, pixels, 4);
    image_free(&img);
    cr_assert_not(image_decode(b.bytes, b.size / 2, "half of it", 3, &img, &err));
    expect_mentions(err.message, "half of it: corrupt PNG");
    cr_assert_not(image_decode(NULL, 0, "nothing", 3, &img, &err));
    expect_mentions(err.message, "nothing: not a PNG or JPEG file");
    free(b.bytes);
    free(raw);
}
