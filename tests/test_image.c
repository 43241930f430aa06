// test_image.c — PNG round trips, refusing files that are not pictures (the
// decoders in detail: test_image_decode.c), the float-to-picture renderings
// (gray, viridis heatmap, planes), and the layout helpers (upscale, grid,
// resize, square, rectangles, grid lines); viridis too.
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "colormap.h"
#include "image.h"
#include "scratch.h"
#include <stb_image_write.h>

TestSuite(image, .init = scratch_setup, .fini = scratch_teardown);

// A picture whose every byte differs from its neighbours: (x*7 + y*13 + c*101) % 256.
static Image pattern(int width, int height, int channels) {
    Image img = image_new(width, height, channels);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                img.pixels[(y * width + x) * channels + c] =
                    (unsigned char)((x * 7 + y * 13 + c * 101) % 256);
    return img;
}

static const unsigned char *pixel(const Image *img, int x, int y) {
    return img->pixels + ((size_t)y * img->width + x) * img->channels;
}

static void expect_rgb(const Image *img, int x, int y, Rgb want) {
    const unsigned char *p = pixel(img, x, y);
    cr_assert(p[0] == want.r && p[1] == want.g && p[2] == want.b,
              "pixel (%d, %d) is (%d, %d, %d), want (%d, %d, %d)", x, y, p[0], p[1], p[2], want.r,
              want.g, want.b);
}

// ---- files --------------------------------------------------------------------------

static void expect_png_round_trip(int channels) {
    Image img = pattern(37, 23, channels); // odd sizes catch stride mistakes
    char path[1024];
    scratch_path(path, channels == 1 ? "gray.png" : "rgb.png");
    Error err;
    cr_assert(image_write_png(path, &img, &err), "%s", err.message);
    long size;
    char *bytes = read_whole_file(path, &size);
    cr_assert(size > 8 && memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    free(bytes);
    Image back;
    cr_assert(image_read(path, channels, &back, &err), "%s", err.message);
    cr_assert(back.width == 37 && back.height == 23 && back.channels == channels,
              "read back %dx%dx%d", back.width, back.height, back.channels);
    expect_bytes_equal("pixels", back.pixels, img.pixels, 37 * 23 * channels);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1, "a temporary was left beside %s", path);
    image_free(&img);
    image_free(&back);
}

Test(image, a_gray_png_reads_back_identical) {
    expect_png_round_trip(1);
}

Test(image, an_rgb_png_reads_back_identical) {
    expect_png_round_trip(3);
}

Test(image, read_converts_gray_to_rgb_and_rgb_to_gray) {
    Image gray = pattern(5, 4, 1);
    char path[1024];
    scratch_path(path, "gray.png");
    Error err;
    cr_assert(image_write_png(path, &gray, &err), "%s", err.message);
    Image rgb;
    cr_assert(image_read(path, 3, &rgb, &err), "%s", err.message);
    cr_assert_eq(rgb.channels, 3);
    Image want = image_to_rgb(&gray);
    expect_bytes_equal("gray read as RGB", rgb.pixels, want.pixels, 5 * 4 * 3);
    // and a gray picture stored as RGB reads back as the same gray
    scratch_path(path, "gray-as-rgb.png");
    cr_assert(image_write_png(path, &want, &err), "%s", err.message);
    Image back;
    cr_assert(image_read(path, 1, &back, &err), "%s", err.message);
    expect_bytes_equal("RGB gray read as gray", back.pixels, gray.pixels, 5 * 4);
    image_free(&gray);
    image_free(&rgb);
    image_free(&want);
    image_free(&back);
}

Test(image, write_replaces_an_existing_file) {
    char path[1024];
    scratch_path(path, "old.png");
    write_whole_file(path, "not a png", 9);
    Image img = pattern(3, 3, 1);
    Error err;
    cr_assert(image_write_png(path, &img, &err), "%s", err.message);
    Image back;
    cr_assert(image_read(path, 1, &back, &err), "%s", err.message);
    expect_bytes_equal("pixels", back.pixels, img.pixels, 9);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
    image_free(&img);
    image_free(&back);
}

Test(image, write_into_a_missing_directory_fails_naming_the_path) {
    char path[1024];
    scratch_path(path, "missing/x.png");
    Image img = pattern(3, 3, 1);
    Error err = {{0}};
    cr_assert_not(image_write_png(path, &img, &err));
    expect_mentions(err.message, path);
    image_free(&img);
}

static void expect_read_refused(const char *path) {
    Image img = {0};
    Error err = {{0}};
    bool ok = image_read(path, 3, &img, &err);
    if (ok) image_free(&img);
    cr_assert_not(ok, "%s was read as a picture", path);
    expect_mentions(err.message, path);
}

Test(image, read_refuses_a_missing_file_naming_it) {
    char path[1024];
    expect_read_refused(scratch_path(path, "nothing.png"));
}

Test(image, read_refuses_a_file_that_is_not_a_picture) {
    char path[1024];
    scratch_path(path, "notes.png");
    write_whole_file(path, "this is text, not a PNG\n", 24);
    expect_read_refused(path);
    scratch_path(path, "empty.jpg");
    write_whole_file(path, "", 0);
    expect_read_refused(path);
}

Test(image, reads_a_jpeg) {
    Image img = pattern(16, 8, 3);
    char path[1024];
    scratch_path(path, "pattern.jpg");
    cr_assert(stbi_write_jpg(path, img.width, img.height, 3, img.pixels, 90), "cannot write %s",
              path);
    Image back;
    Error err;
    cr_assert(image_read(path, 3, &back, &err), "%s", err.message);
    cr_assert_eq(back.width, 16);
    cr_assert_eq(back.height, 8);
    image_free(&back);
    image_free(&img);
}

// image_read reads only what it says it reads: PNG and JPEG, not BMP.
Test(image, read_refuses_a_bmp) {
    Image img = pattern(4, 4, 3);
    char path[1024];
    scratch_path(path, "pattern.bmp");
    cr_assert(stbi_write_bmp(path, img.width, img.height, 3, img.pixels), "cannot write %s", path);
    image_free(&img);
    expect_read_refused(path);
    Error err;
    cr_assert_not(image_read(path, 1, &img, &err));
    expect_mentions(err.message, "not a PNG or JPEG");
}

Test(image, read_refuses_a_png_cut_short) {
    Image img = pattern(64, 64, 3);
    char path[1024];
    scratch_path(path, "whole.png");
    Error err;
    cr_assert(image_write_png(path, &img, &err), "%s", err.message);
    image_free(&img);
    long size;
    char *bytes = read_whole_file(path, &size);
    scratch_path(path, "cut.png");
    write_whole_file(path, bytes, (size_t)size / 2);
    free(bytes);
    expect_read_refused(path);
}

// ---- renderings -----------------------------------------------------------------

Test(image, gray_maps_lo_to_black_hi_to_white_and_clamps) {
    const float x[6] = {-1.0f, 0.0f, 0.5f, 1.0f, 2.0f, 0.25f}; // (2,3) over [0, 1]
    Image img = image_from_gray(x, 2, 3, 0.0f, 1.0f);
    cr_assert(img.width == 3 && img.height == 2 && img.channels == 1);
    const unsigned char want[6] = {0, 0, 128, 255, 255, 64};
    // 0.5 * 255 = 127.5 and 0.25 * 255 = 63.75: allow either rounding
    for (int i = 0; i < 6; i++)
        cr_assert(abs(img.pixels[i] - want[i]) <= 1, "pixel %d is %d, want %d", i, img.pixels[i],
                  want[i]);
    const unsigned char *p = img.pixels;
    cr_assert(p[0] == 0 && p[1] == 0 && p[3] == 255 && p[4] == 255,
              "the ends and the clamped values must be exact");
    image_free(&img);
}

Test(image, heatmap_ends_are_the_ends_of_viridis) {
    const float x[4] = {-3.0f, 1.0f, 5.0f, 9.0f}; // (1,4) over [-3, 5]
    Image img = image_heatmap(x, 1, 4, -3.0f, 5.0f);
    cr_assert(img.width == 4 && img.height == 1 && img.channels == 3);
    expect_rgb(&img, 0, 0, colormap_viridis(0.0f));
    expect_rgb(&img, 1, 0, colormap_viridis(0.5f));
    expect_rgb(&img, 2, 0, colormap_viridis(1.0f));
    expect_rgb(&img, 3, 0, colormap_viridis(1.0f)); // above hi clamps
    image_free(&img);
}

Test(image, viridis_has_the_published_ends_and_middle) {
    Rgb lo = colormap_viridis(0.0f), hi = colormap_viridis(1.0f), mid = colormap_viridis(0.5f);
    cr_assert(lo.r == 0x44 && lo.g == 0x01 && lo.b == 0x54,
              "viridis(0) = #%02x%02x%02x, want #440154", lo.r, lo.g, lo.b);
    cr_assert(hi.r == 0xfd && hi.g == 0xe7 && hi.b == 0x25,
              "viridis(1) = #%02x%02x%02x, want #fde725", hi.r, hi.g, hi.b);
    // matplotlib's viridis(0.5) is #21918c
    cr_assert(abs(mid.r - 0x21) <= 3 && abs(mid.g - 0x91) <= 3 && abs(mid.b - 0x8c) <= 3,
              "viridis(0.5) = #%02x%02x%02x, want about #21918c", mid.r, mid.g, mid.b);
}

Test(image, viridis_clamps_and_brightens_steadily) {
    Rgb below = colormap_viridis(-0.5f), above = colormap_viridis(7.0f);
    Rgb lo = colormap_viridis(0.0f), hi = colormap_viridis(1.0f);
    cr_assert(below.r == lo.r && below.g == lo.g && below.b == lo.b, "t < 0 gives viridis(0)");
    cr_assert(above.r == hi.r && above.g == hi.g && above.b == hi.b, "t > 1 gives viridis(1)");
    // viridis is designed so that lightness rises with t; green rises monotonically
    int last = -1;
    for (int i = 0; i <= 100; i++) {
        Rgb c = colormap_viridis(i / 100.0f);
        cr_assert_geq(c.g, last, "green falls at t = %.2f", i / 100.0);
        last = c.g;
    }
}

Test(image, viridis_gnuplot_palette_has_the_same_ends) {
    const char *palette = colormap_viridis_gnuplot();
    cr_assert(strncmp(palette, "set palette defined (", 21) == 0, "%s", palette);
    expect_mentions(palette, "'#440154'");
    expect_mentions(palette, "'#fde725'");
    cr_assert_eq(palette[strlen(palette) - 1], ')', "%s", palette);
}

Test(image, planes_round_trip_through_an_rgb_picture) {
    enum { C = 3, H = 4, W = 5 };
    float x[C * H * W], back[C * H * W];
    for (int i = 0; i < C * H * W; i++) x[i] = (float)((i * 37) % 256) / 255.0f; // exact bytes
    Image img = image_from_planes(x, C, H, W);
    cr_assert(img.width == W && img.height == H && img.channels == C);
    // planes (C,H,W) become interleaved pixels (H,W,C): channel 2 of pixel (x=1, y=3)
    cr_assert_eq(pixel(&img, 1, 3)[2], (2 * H * W + 3 * W + 1) * 37 % 256);
    image_to_planes(&img, back);
    expect_floats_equal("planes", back, x, C * H * W, 1e-6);
    image_free(&img);
}

Test(image, to_rgb_repeats_gray) {
    Image gray = pattern(3, 2, 1);
    Image rgb = image_to_rgb(&gray);
    cr_assert(rgb.width == 3 && rgb.height == 2 && rgb.channels == 3);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            cr_assert_eq(rgb.pixels[3 * i + c], gray.pixels[i], "pixel %d, channel %d", i, c);
    image_free(&gray);
    image_free(&rgb);
}

// ---- layout ---------------------------------------------------------------------

Test(image, upscale_makes_each_pixel_a_block) {
    Image img = pattern(3, 2, 3);
    Image big = image_upscale(&img, 4);
    cr_assert(big.width == 12 && big.height == 8 && big.channels == 3, "%dx%d", big.width,
              big.height);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 12; x++)
            cr_assert_eq(memcmp(pixel(&big, x, y), pixel(&img, x / 4, y / 4), 3), 0,
                         "big pixel (%d, %d) is not small pixel (%d, %d)", x, y, x / 4, y / 4);
    image_free(&img);
    image_free(&big);
}

Test(image, grid_places_tiles_row_by_row_between_borders) {
    // 5 tiles of 3x2 in rows of 3, border 1: 3*3 + 4 = 13 wide, 2*2 + 3 = 7 high
    Image tiles[5];
    for (int t = 0; t < 5; t++) {
        tiles[t] = image_new(3, 2, 1);
        memset(tiles[t].pixels, 10 * (t + 1), 6);
    }
    Rgb red = {255, 0, 0};
    Image grid = image_grid(tiles, 5, 3, 1, red);
    cr_assert(grid.width == 13 && grid.height == 7 && grid.channels == 3, "grid is %dx%dx%d",
              grid.width, grid.height, grid.channels);
    for (int t = 0; t < 5; t++) {
        int x0 = 1 + (t % 3) * 4, y0 = 1 + (t / 3) * 3;
        unsigned char v = (unsigned char)(10 * (t + 1));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) expect_rgb(&grid, x0 + x, y0 + y, (Rgb){v, v, v});
    }
    expect_rgb(&grid, 0, 0, red); // the outer border
    expect_rgb(&grid, 4, 1, red); // between tiles 0 and 1
    expect_rgb(&grid, 1, 3, red); // between the rows
    expect_rgb(&grid, 12, 6, red);
    for (int t = 0; t < 5; t++) image_free(&tiles[t]);
    image_free(&grid);
}

Test(image, grid_with_fewer_tiles_than_columns_is_one_row_as_wide_as_they_are) {
    Image tiles[2] = {image_new(4, 4, 3), image_new(4, 4, 3)};
    Image grid = image_grid(tiles, 2, 8, 2, (Rgb){0, 0, 0});
    cr_assert(grid.width == 2 * 4 + 3 * 2 && grid.height == 4 + 2 * 2, "grid is %dx%d", grid.width,
              grid.height);
    image_free(&tiles[0]);
    image_free(&tiles[1]);
    image_free(&grid);
}

Test(image, resize_and_square_give_the_asked_sizes_and_keep_flat_colour) {
    Image img = image_new(40, 30, 3);
    image_fill_rect(&img, 0, 0, 40, 30, (Rgb){200, 100, 50});
    Image small = image_resize(&img, 17, 9);
    cr_assert(small.width == 17 && small.height == 9 && small.channels == 3);
    Image square = image_square(&img, 24);
    cr_assert(square.width == 24 && square.height == 24 && square.channels == 3);
    for (int i = 0; i < 24 * 24; i++) {
        const unsigned char *p = square.pixels + 3 * i;
        cr_assert(abs(p[0] - 200) <= 1 && abs(p[1] - 100) <= 1 && abs(p[2] - 50) <= 1,
                  "pixel %d is (%d, %d, %d)", i, p[0], p[1], p[2]);
    }
    image_free(&img);
    image_free(&small);
    image_free(&square);
}

Test(image, square_takes_the_centre) {
    // 30 wide, 10 high: left third black, middle third white, right third black
    Image img = image_new(30, 10, 1);
    image_fill_rect(&img, 10, 0, 10, 10, (Rgb){255, 255, 255});
    Image square = image_square(&img, 10);
    cr_assert(square.width == 10 && square.height == 10);
    for (int i = 0; i < 100; i++)
        cr_assert_geq(square.pixels[i], 250, "pixel %d is %d: not the white centre", i,
                      square.pixels[i]);
    image_free(&img);
    image_free(&square);
}

Test(image, fill_rect_is_clipped_to_the_picture) {
    Image img = image_new(4, 3, 3);
    image_fill_rect(&img, 2, 1, 10, 10, (Rgb){1, 2, 3}); // runs off the right and bottom
    image_fill_rect(&img, -5, -5, 6, 6, (Rgb){9, 9, 9}); // starts off the top left: (0, 0) only
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) {
            Rgb want = x == 0 && y == 0   ? (Rgb){9, 9, 9}
                       : x >= 2 && y >= 1 ? (Rgb){1, 2, 3}
                                          : (Rgb){0, 0, 0};
            expect_rgb(&img, x, y, want);
        }
    image_free(&img);
}

Test(image, draw_grid_draws_lines_every_cell_and_on_the_edges) {
    // a 9x9 picture cut into cells of 4 with 1-pixel lines: lines at 0, 4 and the last column
    Image img = image_new(9, 9, 3);
    Rgb white = {255, 255, 255};
    image_draw_grid(&img, 4, 1, white);
    expect_rgb(&img, 0, 5, white);
    expect_rgb(&img, 4, 5, white);
    expect_rgb(&img, 8, 5, white);
    expect_rgb(&img, 5, 0, white);
    expect_rgb(&img, 5, 4, white);
    expect_rgb(&img, 5, 8, white);
    expect_rgb(&img, 2, 2, (Rgb){0, 0, 0}); // inside a cell
    expect_rgb(&img, 6, 6, (Rgb){0, 0, 0});
    image_free(&img);
}
