// test_01_patches.c — chapter 01: cutting images into patches and back. The
// order of the numbers in a patch row is checked by hand on a small image and by
// the property the chapter relies on (a linear layer on the rows is a
// convolution with kernel = stride = P); the round trip is exact.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "patch.h"
#include "rng.h"

// images (B,Cin,H,W) with pixel value b*1000 + c*100 + y*10 + x, easy to read in a failure.
static float *labelled_images(int B, int Cin, int H, int W) {
    float *x = malloc((size_t)B * Cin * H * W * sizeof *x);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < Cin; c++)
            for (int y = 0; y < H; y++)
                for (int i = 0; i < W; i++)
                    x[((b * Cin + c) * H + y) * W + i] = (float)(b * 1000 + c * 100 + y * 10 + i);
    return x;
}

// ---- the order, by hand ------------------------------------------------------------

Test(patches, order_matches_a_hand_computed_example) {
    // B=1, Cin=2, H=W=4, P=2: N=4 patches taken row by row, each 2*2*2 = 8 numbers
    // ordered channel, then row inside the patch, then column inside the patch
    const float want[4 * 8] = {
        0,  1,  10, 11, 100, 101, 110, 111, // patch 0: top left
        2,  3,  12, 13, 102, 103, 112, 113, // patch 1: top right
        20, 21, 30, 31, 120, 121, 130, 131, // patch 2: bottom left
        22, 23, 32, 33, 122, 123, 132, 133, // patch 3: bottom right
    };
    float *images = labelled_images(1, 2, 4, 4);
    float patches[4 * 8], back[2 * 4 * 4];
    patchify(patches, images, 1, 2, 4, 4, 2);
    expect_floats_equal("patches", patches, want, 32, 0);
    unpatchify(back, want, 1, 2, 4, 4, 2);
    expect_floats_equal("image from the hand-written patches", back, images, 32, 0);
    free(images);
}

Test(patches, order_on_wide_and_tall_images_keeps_rows_and_columns_apart) {
    // 2 high, 4 wide, P=2: two patches side by side
    const float wide[2 * 4] = {0, 1, 10, 11, 2, 3, 12, 13};
    // 4 high, 2 wide, P=2: two patches one above the other
    const float tall[2 * 4] = {0, 1, 10, 11, 20, 21, 30, 31};
    float got[8];
    float *w = labelled_images(1, 1, 2, 4);
    patchify(got, w, 1, 1, 2, 4, 2);
    expect_floats_equal("patches of a 2x4 image", got, wide, 8, 0);
    float *t = labelled_images(1, 1, 4, 2);
    patchify(got, t, 1, 1, 4, 2, 2);
    expect_floats_equal("patches of a 4x2 image", got, tall, 8, 0);
    free(w);
    free(t);
}

Test(patches, each_image_of_a_batch_has_its_own_patches) {
    // B=2, Cin=1, H=W=2, P=1: 4 patches of one pixel each, per image
    const float want[2 * 4] = {0, 1, 10, 11, 1000, 1001, 1010, 1011};
    float *images = labelled_images(2, 1, 2, 2);
    float got[8];
    patchify(got, images, 2, 1, 2, 2, 1);
    expect_floats_equal("patches of a batch", got, want, 8, 0);
    free(images);
}

Test(patches, one_pixel_patches_are_the_pixels_with_their_channels) {
    // P=1, Cin=3: patch n is (red, green, blue) of pixel n
    float *images = labelled_images(1, 3, 2, 3);
    float got[6 * 3], want[6 * 3];
    for (int n = 0; n < 6; n++)
        for (int c = 0; c < 3; c++) want[n * 3 + c] = (float)(c * 100 + (n / 3) * 10 + n % 3);
    patchify(got, images, 1, 3, 2, 3, 1);
    expect_floats_equal("1x1 patches", got, want, 18, 0);
    free(images);
}

Test(patches, one_patch_as_big_as_the_image_is_the_image) {
    float *images = labelled_images(1, 3, 4, 4);
    float got[3 * 4 * 4];
    patchify(got, images, 1, 3, 4, 4, 4);
    expect_floats_equal("the single patch", got, images, 48, 0);
    free(images);
}

// ---- the property the order is chosen for ------------------------------------------

Test(patches, a_linear_layer_on_patch_rows_is_a_strided_convolution) {
    enum { B = 2, Cin = 3, H = 6, W = 9, P = 3, Cout = 4, N = (H / P) * (W / P), D = Cin * P * P };
    Rng rng;
    rng_seed(&rng, 1);
    float images[B * Cin * H * W], weight[Cout * D], patches[B * N * D];
    rng_fill_uniform(&rng, images, B * Cin * H * W, -1, 1);
    // the weight is a Conv2d's (Cout,Cin,P,P) and, flattened, a Linear's (Cout,D)
    rng_fill_uniform(&rng, weight, Cout * D, -1, 1);
    patchify(patches, images, B, Cin, H, W, P);
    float linear[B * N * Cout], conv[B * N * Cout];
    for (int r = 0; r < B * N; r++) // (B*N, D) @ (D, Cout)
        for (int o = 0; o < Cout; o++) {
            double s = 0;
            for (int k = 0; k < D; k++) s += (double)patches[r * D + k] * weight[o * D + k];
            linear[r * Cout + o] = (float)s;
        }
    for (int b = 0; b < B; b++) // out[b, n, o], n = gy * (W/P) + gx
        for (int gy = 0; gy < H / P; gy++)
            for (int gx = 0; gx < W / P; gx++)
                for (int o = 0; o < Cout; o++) {
                    double s = 0;
                    for (int c = 0; c < Cin; c++)
                        for (int ky = 0; ky < P; ky++)
                            for (int kx = 0; kx < P; kx++) {
                                int y = gy * P + ky, x = gx * P + kx;
                                s += (double)images[((b * Cin + c) * H + y) * W + x] *
                                     weight[((o * Cin + c) * P + ky) * P + kx];
                            }
                    conv[(b * N + gy * (W / P) + gx) * Cout + o] = (float)s;
                }
    expect_floats_equal("linear on patches vs convolution", linear, conv, B * N * Cout, 1e-5);
}

// ---- round trips ------------------------------------------------------------------

Test(patches, patchify_then_unpatchify_is_exact_on_random_data) {
    enum { B = 2, Cin = 3, H = 12, W = 8, P = 4, N = (H / P) * (W / P) };
    Rng rng;
    rng_seed(&rng, 42);
    float images[B * Cin * H * W], patches[B * N * Cin * P * P], back[B * Cin * H * W];
    rng_fill_normal(&rng, images, B * Cin * H * W, 0, 1);
    patchify(patches, images, B, Cin, H, W, P);
    unpatchify(back, patches, B, Cin, H, W, P);
    expect_floats_equal("unpatchify(patchify(x))", back, images, B * Cin * H * W, 0);
}

Test(patches, unpatchify_then_patchify_is_exact_on_random_data) {
    enum { B = 2, Cin = 3, H = 12, W = 8, P = 4, N = (H / P) * (W / P) };
    Rng rng;
    rng_seed(&rng, 43);
    float patches[B * N * Cin * P * P], images[B * Cin * H * W], back[B * N * Cin * P * P];
    rng_fill_normal(&rng, patches, B * N * Cin * P * P, 0, 1);
    unpatchify(images, patches, B, Cin, H, W, P);
    patchify(back, images, B, Cin, H, W, P);
    expect_floats_equal("patchify(unpatchify(p))", back, patches, B * N * Cin * P * P, 0);
}

Test(patches, patchify_writes_every_output_and_nothing_else) {
    enum { Cin = 2, H = 6, W = 4, P = 2, OUT = (H / P) * (W / P) * Cin * P * P };
    float *images = labelled_images(1, Cin, H, W);
    float patches[OUT + 2];
    for (int i = 0; i < OUT + 2; i++) patches[i] = -1; // no pixel is negative
    patchify(patches + 1, images, 1, Cin, H, W, P);
    cr_assert(patches[0] == -1 && patches[OUT + 1] == -1, "patchify wrote outside its output");
    for (int i = 1; i <= OUT; i++)
        cr_assert_geq(patches[i], 0, "patches[%d] was not written", i - 1);
    free(images);
}

// ---- sizes --------------------------------------------------------------------------

Test(patches, count_is_rows_times_columns_of_patches) {
    cr_assert_eq(patch_count(28, 28, 4), 49);
    cr_assert_eq(patch_count(28, 28, 7), 16);
    cr_assert_eq(patch_count(28, 28, 1), 784);
    cr_assert_eq(patch_count(28, 28, 28), 1);
    cr_assert_eq(patch_count(12, 8, 4), 6);
    cr_assert_eq(patch_count(224, 224, 16), 196, "ViT-B/16 at 224x224 has 196 patches");
}

static void expect_check_refuses(int H, int W, int P) {
    Error err = {{0}};
    cr_assert_not(patch_check(H, W, P, &err), "P=%d accepted for %dx%d", P, H, W);
    char p[16];
    snprintf(p, sizeof p, "%d", P);
    cr_assert_neq(err.message[0], '\0', "no message for P=%d, %dx%d", P, H, W);
    expect_mentions(err.message, p);
}

Test(patches, check_accepts_patch_sizes_that_tile_the_image) {
    Error err;
    cr_assert(patch_check(28, 28, 4, &err), "%s", err.message);
    cr_assert(patch_check(28, 28, 28, &err), "%s", err.message);
    cr_assert(patch_check(28, 28, 1, &err), "%s", err.message);
    cr_assert(patch_check(12, 8, 4, &err), "%s", err.message);
    cr_assert(patch_check(28, 28, 4, NULL), "err may be NULL");
}

Test(patches, check_refuses_a_patch_that_does_not_divide_the_image) {
    expect_check_refuses(28, 28, 5);
    expect_check_refuses(10, 8, 4); // divides W only
    expect_check_refuses(8, 10, 4); // divides H only
}

Test(patches, check_refuses_a_patch_size_of_zero_or_less) {
    expect_check_refuses(28, 28, 0);
    expect_check_refuses(28, 28, -4);
}

Test(patches, check_refuses_a_patch_larger_than_the_image) {
    expect_check_refuses(4, 4, 8);
    expect_check_refuses(8, 4, 8); // taller than wide: P fits H, not W
    cr_assert_not(patch_check(28, 28, 5, NULL), "err may be NULL on failure too");
}

Test(patches, patchify_with_a_bad_patch_size_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    float images[5 * 5] = {0}, patches[5 * 5];
    patchify(patches, images, 1, 1, 5, 5, 2);
}

Test(patches, unpatchify_with_a_bad_patch_size_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    float images[4 * 4], patches[4 * 4] = {0};
    unpatchify(images, patches, 1, 1, 4, 4, 0);
}

Test(patches, count_with_a_bad_patch_size_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    patch_count(28, 28, 3);
}
