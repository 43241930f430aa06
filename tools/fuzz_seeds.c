// fuzz_seeds.c — writes the seed corpora of the fuzz targets (fuzz/corpus/),
// each file made by the library itself where the library writes that format
// (and the image flavours it only reads by libpng's and libjpeg's encoders):
// a few tiny valid inputs and a few broken ones per target. `make fuzz-seeds`
// runs it; the output is committed, so a fresh clone fuzzes without it.
//
//   build/fuzz_seeds DIR    (DIR = fuzz/corpus)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>
#include <stb_image_write.h>
#include <zlib.h>
#include "checkpoint.h"
#include "cnn.h"
#include "files.h"
#include "image.h"
#include "vit.h"

static const char *dir;

// "<dir>/<target>/<name>" (made if need be) into out; returns out.
static char *seed_path(char out[1024], const char *target, const char *name) {
    Error err;
    char sub[1024];
    if (!path_join(sub, sizeof sub, dir, target, &err) || !make_dirs(sub, &err) ||
        !path_join(out, 1024, sub, name, &err))
        error_exit("fuzz_seeds", &err, 1);
    return out;
}

static void write_bytes(const char *target, const char *name, const void *data, size_t n) {
    char path[1024];
    FILE *f = fopen(seed_path(path, target, name), "wb");
    if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

// data gzipped (zlib's gzip header carries no name and no time: reproducible).
static void write_gzip(const char *target, const char *name, const void *data, size_t n) {
    char path[1024];
    gzFile g = gzopen(seed_path(path, target, name), "wb9");
    if (g == NULL || gzwrite(g, data, (unsigned)n) != (int)n || gzclose(g) != Z_OK) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

// A file's first `keep` bytes as another seed (a truncated file).
static void write_prefix(const char *target, const char *name, const char *from, long keep) {
    char path[1024];
    FILE *f = fopen(seed_path(path, target, from), "rb");
    unsigned char *buf = xmalloc((size_t)keep);
    if (f == NULL || fread(buf, 1, (size_t)keep, f) != (size_t)keep) {
        fprintf(stderr, "fuzz_seeds: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    write_bytes(target, name, buf, (size_t)keep);
    free(buf);
}

// Two 28x28 images and their labels, plain and gzipped; a truncated file, a
// file with a byte too many, a bad element type.
static void idx_seeds(void) {
    enum { N = 2, R = 28, HEAD = 16 };
    unsigned char images[HEAD + N * R * R] = {0, 0, 0x08, 3, 0, 0, 0, N, 0, 0, 0, R, 0, 0, 0, R};
    for (int i = 0; i < N * R * R; i++) images[HEAD + i] = (unsigned char)(i * 7 % 256);
    unsigned char labels[8 + N + 1] = {0, 0, 0x08, 1, 0, 0, 0, N, 9, 0, 0};
    write_bytes("idx", "images-2x28x28", images, sizeof images);
    write_gzip("idx", "images-2x28x28.gz", images, sizeof images);
    write_bytes("idx", "labels-2", labels, 8 + N);
    write_gzip("idx", "labels-2.gz", labels, 8 + N);
    write_bytes("idx", "images-truncated", images, HEAD + R * R);
    write_bytes("idx", "labels-extra-byte", labels, 8 + N + 1);
    labels[2] = 0x0d; // float elements
    write_bytes("idx", "labels-float-type", labels, 8 + N);
}

// A tiny ViT and a tiny CNN, random weights; a truncated checkpoint; a header
// that is not JSON.
static void safetensors_seeds(void) {
    Error err;
    char path[1024];
    Rng rng;
    rng_seed(&rng, 1);
    VitConfig cfg = {.image_size = 4, .patch_size = 2, .in_channels = 1, .hidden_dim = 4,
                     .mlp_dim = 4, .num_layers = 1, .num_heads = 2, .num_classes = 3};
    Vit vit;
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.0f, 1);
    vit_init(&vit, &rng);
    if (!checkpoint_save(seed_path(path, "safetensors", "vit-tiny.safetensors"), &vit.model,
                         0.5f, 0.25f, &err))
        error_exit("fuzz_seeds", &err, 1);
    vit_free(&vit);
    ResNetConfig body = {8, 1, 4, 3, 2, 2, 1, {1}, {2}, {1}};
    Cnn cnn;
    cnn_build(&cnn, &body, 3, 0.0f, 1);
    cnn_init(&cnn, &rng);
    if (!checkpoint_save(seed_path(path, "safetensors", "cnn-tiny.safetensors"), &cnn.model,
                         0.5f, 0.25f, &err))
        error_exit("fuzz_seeds", &err, 1);
    cnn_free(&cnn);
    write_prefix("safetensors", "vit-truncated.safetensors", "vit-tiny.safetensors", 600);
    static const char not_json[] = "\x08\0\0\0\0\0\0\0{\"a\":[1,";
    write_bytes("safetensors", "header-not-json.safetensors", not_json, sizeof not_json - 1);
}

static void jpeg_sink(void *context, void *data, int size) {
    fwrite(data, 1, (size_t)size, context);
}

static FILE *seed_open(const char *name) {
    char path[1024];
    FILE *f = fopen(seed_path(path, "image", name), "wb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
    return f;
}

// A W x H PNG through libpng: rows of W samples of `depth` bits, each sample
// (pixel * 37) masked to the depth, for the flavours image_write_png does not
// write (palette with tRNS, 16-bit, alpha, interlaced). libpng's default error
// handling ends the program on failure.
static void write_png_flavour(const char *name, int W, int H, int depth, int color_type,
                              int interlace) {
    FILE *f = seed_open(name);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, depth, color_type, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
        png_byte alpha[2] = {0, 128};
        png_set_PLTE(png, info, palette, 4);
        png_set_tRNS(png, info, alpha, 2, NULL);
    }
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    png_bytep image = xcalloc((size_t)H, rowbytes), *rows = xcalloc((size_t)H, sizeof *rows);
    for (size_t i = 0; i < (size_t)H * rowbytes; i++) // palette: indices 0..3 only
        image[i] = (png_byte)(i * 37 & (color_type == PNG_COLOR_TYPE_PALETTE ? 0x33 : 0xFF));
    for (int y = 0; y < H; y++) rows[y] = image + (size_t)y * rowbytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(image);
    fclose(f);
}

// An 8 x 8 JPEG through libjpeg: C = 1 gray, 3 colour (YCbCr), 4 CMYK; or progressive.
static void write_jpeg_flavour(const char *name, int C, bool progressive) {
    FILE *f = seed_open(name);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr errors;
    c.err = jpeg_std_error(&errors);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = 8, c.image_height = 8, c.input_components = C;
    c.in_color_space = C == 1 ? JCS_GRAYSCALE : C == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 50, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    unsigned char row[8 * 4];
    for (JSAMPROW r = row; c.next_scanline < 8;) {
        for (int i = 0; i < 8 * C; i++) row[i] = (unsigned char)(i * 29 + c.next_scanline * 13);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

// A gray and an RGB PNG (the library's own), a JPEG (stb_image_write's), a
// truncated PNG; PNGs with a palette and tRNS, 16-bit gray, interlaced RGBA;
// gray, progressive and CMYK JPEGs.
static void image_seeds(void) {
    Error err;
    char path[1024];
    Image gray = image_new(5, 4, 1), rgb = image_new(3, 2, 3);
    for (int i = 0; i < 5 * 4; i++) gray.pixels[i] = (unsigned char)(i * 13);
    for (int i = 0; i < 3 * 2 * 3; i++) rgb.pixels[i] = (unsigned char)(i * 29);
    if (!image_write_png(seed_path(path, "image", "gray-5x4.png"), &gray, &err) ||
        !image_write_png(seed_path(path, "image", "rgb-3x2.png"), &rgb, &err))
        error_exit("fuzz_seeds", &err, 1);
    FILE *f = seed_open("rgb-3x2.jpg");
    if (!stbi_write_jpg_to_func(jpeg_sink, f, 3, 2, 3, rgb.pixels, 50) || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write rgb-3x2.jpg\n");
        exit(1);
    }
    write_prefix("image", "gray-truncated.png", "gray-5x4.png", 40);
    image_free(&gray);
    image_free(&rgb);
    write_png_flavour("palette-4bit-5x3.png", 5, 3, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE);
    write_png_flavour("gray16-3x2.png", 3, 2, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE);
    write_png_flavour("rgba-interlaced-9x9.png", 9, 9, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_ADAM7);
    write_jpeg_flavour("gray-8x8.jpg", 1, false);
    write_jpeg_flavour("progressive-8x8.jpg", 3, true);
    write_jpeg_flavour("cmyk-8x8.jpg", 4, false);
}

// Command lines, one argument a line, for fuzz/cli.c's table.
static void cli_seeds(void) {
    static const char *lines[][2] = {
        {"good", "--patch\n4\n--lr=0.5\n--augment\n--name\nx\n--index\n12\n--out\nfig"},
        {"help", "--patch\n4\n--help"},
        {"out-of-range", "--patch=29"},
        {"not-a-number", "--lr\n1e-3x"},
        {"nan", "--lr=nan"},
        {"missing-value", "--index"},
        {"unknown", "--patches\n4"},
        {"switch-value", "--augment=yes"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        write_bytes("cli", lines[i][0], lines[i][1], strlen(lines[i][1]));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    idx_seeds();
    safetensors_seeds();
    image_seeds();
    cli_seeds();
    return 0;
}
