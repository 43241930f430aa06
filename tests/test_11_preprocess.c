// test_11_preprocess.c — src/preprocess.h against torchvision 0.14's preset
// for ImageNet weights on PIL images (tests/fixtures/11_preprocess.bin): PIL's
// bilinear resize of the shorter side gives the same bytes, the centre crop
// the same bytes (an offset of 9.5 rounded to 10, as Python rounds), and the
// normalised floats are the same bits; on a shrink by the scale of
// scikit-image's cat, a strong shrink, an enlargement, a size already right, a
// tall image and a gray one. And by hand: a constant image stays constant at
// any size; resizing to the same size is the identity.
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fixture.h"
#include "owned.h"
#include "preprocess.h"

static Fixture f;

static void teardown(void) {
    fixture_free(&f);
    owned_release();
}

TestSuite(preprocess, .fini = teardown);

static const struct {
    const char *name;
    int W, H, ch, resize, crop;
} cases[] = {{"cat_scale", 45, 30, 3, 26, 24}, {"shrink", 64, 40, 3, 12, 10},
             {"enlarge", 9, 13, 3, 20, 18},    {"same", 20, 20, 3, 20, 16},
             {"half", 35, 20, 3, 20, 16},      {"tall", 23, 50, 3, 17, 15},
             {"gray", 31, 22, 1, 12, 11}};

// A fixture tensor of bytes stored as floats, as an Image.
static Image image_of(const FixtureTensor *t) {
    cr_assert_eq(t->ndim, 3, "%s: expected (H,W,ch)", t->name);
    Image img = image_new(t->shape[1], t->shape[0], t->shape[2]);
    for (size_t i = 0; i < t->count; i++) img.pixels[i] = (unsigned char)t->data[i];
    return img;
}

static const FixtureTensor *tensor(const char *name, const char *field) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", name, field);
    const FixtureTensor *t = fixture_find(&f, key);
    cr_assert_not_null(t, "no %s in 11_preprocess.bin", key);
    return t;
}

static void expect_image(const char *what, const Image *got, const Image *want) {
    cr_assert(got->width == want->width && got->height == want->height &&
                  got->channels == want->channels,
              "%s: %dx%dx%d, torchvision's %dx%dx%d", what, got->width, got->height, got->channels,
              want->width, want->height, want->channels);
    expect_bytes_equal(what, got->pixels, want->pixels,
                       (long)want->width * want->height * want->channels);
}

Test(preprocess, same_as_torchvision_preset) {
    fixture_load(&f, "11_preprocess.bin");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *name = cases[i].name;
        int crop = cases[i].crop, ch = cases[i].ch;
        Image img = image_of(tensor(name, "pixels"));
        Image want_resized = image_of(tensor(name, "resized"));
        Image want_cropped = image_of(tensor(name, "cropped"));
        char what[96];
        Image resized = preprocess_resize_shorter(&img, cases[i].resize);
        snprintf(what, sizeof what, "%s: resized", name);
        expect_image(what, &resized, &want_resized);
        Image cropped = preprocess_center_crop(&resized, crop);
        snprintf(what, sizeof what, "%s: cropped", name);
        expect_image(what, &cropped, &want_cropped);
        float *out = floats((size_t)ch * crop * crop);
        Image shown;
        preprocess_image(out, &img, cases[i].resize, crop, fixture_get_field(&f, name, "mean", ch),
                         fixture_get_field(&f, name, "std", ch), &shown);
        snprintf(what, sizeof what, "%s: normalised", name);
        expect_floats_equal(what, out, fixture_get_field(&f, name, "out", ch, crop, crop),
                            ch * crop * crop, 0.0);
        snprintf(what, sizeof what, "%s: shown", name);
        expect_image(what, &shown, &want_cropped);
        Image *all[] = {&img, &want_resized, &want_cropped, &resized, &cropped, &shown};
        for (int k = 0; k < 6; k++) image_free(all[k]);
    }
}

Test(preprocess, constant_stays_constant) {
    const int sizes[][2] = {{7, 5}, {33, 21}, {4, 9}, {100, 3}};
    Image img = image_new(50, 40, 3);
    memset(img.pixels, 173, (size_t)50 * 40 * 3);
    for (int i = 0; i < 4; i++) {
        Image out = preprocess_resize(&img, sizes[i][0], sizes[i][1]);
        for (long k = 0; k < (long)sizes[i][0] * sizes[i][1] * 3; k++)
            cr_assert_eq(out.pixels[k], 173, "%dx%d: pixel byte %ld is %d", sizes[i][0],
                         sizes[i][1], k, out.pixels[k]);
        image_free(&out);
    }
    image_free(&img);
}

Test(preprocess, same_size_is_identity) {
    Image img = image_new(13, 8, 3);
    for (int k = 0; k < 13 * 8 * 3; k++) img.pixels[k] = (unsigned char)(k * 37);
    Image out = preprocess_resize(&img, 13, 8);
    expect_image("13x8 to itself", &out, &img);
    image_free(&out);
    image_free(&img);
}
