// test_11_pretrained.c — src/pretrained.h on a small ViT of B/16's structure
// in the paper's JAX layout, converted by tools/convert_weights.py
// (tests/fixtures/11_tiny_jax.safetensors): its metadata read (GELU's tanh
// form, the per-channel 0.5 normalisation, torchvision's sizes scaled, the ten
// class names) and its logits equal to NumPy's from the JAX layout itself
// (11_tiny_jax_io.bin); broken metadata refused with the file named and
// nothing left allocated; random weights the same for the same seed; and
// ViT-B/16 itself built for inference: 86,567,656 parameters, no gradients.
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fixture.h"
#include "owned.h"
#include "pretrained.h"
#include "scratch.h"

#define TINY FIXTURE_DIR "/11_tiny_jax.safetensors"

static Pretrained p, q;
static Fixture f;

static void setup(void) {
    scratch_setup();
}

static void teardown(void) {
    pretrained_close(&p);
    pretrained_close(&q);
    fixture_free(&f);
    owned_release();
    scratch_teardown();
}

TestSuite(pretrained, .init = setup, .fini = teardown);

Test(pretrained, jax_checkpoint_reads_and_runs) {
    Error err;
    cr_assert(pretrained_open(&p, TINY, 3, &err), "%s", err.message);
    const VitConfig *c = &p.vit.cfg;
    cr_expect(c->image_size == 32 && c->patch_size == 8 && c->in_channels == 3 &&
              c->hidden_dim == 48 && c->num_heads == 3 && c->mlp_dim == 96 && c->num_layers == 2 &&
              c->num_classes == 10);
    cr_expect(p.vit.head.pre_logits, "the original checkpoints' pre-logits layer");
    cr_expect_eq(vit_gelu(&p.vit), GELU_TANH);
    for (int ch = 0; ch < 3; ch++) cr_expect(p.mean[ch] == 0.5f && p.std[ch] == 0.5f);
    cr_expect_eq(p.resize, 256, "resize_size as written");
    cr_expect_eq(p.crop, 32);
    cr_expect_str_eq(p.classes[0], "tench");
    cr_expect_str_eq(p.classes[9], "ostrich");
    fixture_load(&f, "11_tiny_jax_io.bin");
    vit_forward(&p.vit, fixture_get(&f, "images", 3, 3, 32, 32), NULL, 3, 0.0f, false);
    expect_floats_close("logits", p.vit.ha.logits, fixture_get(&f, "logits", 3, 10), 30, 1e-5,
                        1e-5);
}

// TINY with one metadata value replaced (key and old value in the JSON, the
// new value of the same length so the offsets stay), written into the scratch
// directory.
static char *edited(char out[1024], const char *from, const char *to) {
    long size;
    char *bytes = read_whole_file(TINY, &size);
    cr_assert_eq(strlen(from), strlen(to));
    char *at = NULL;
    for (long i = 0; at == NULL && i + (long)strlen(from) <= size; i++)
        if (memcmp(bytes + i, from, strlen(from)) == 0) at = bytes + i;
    cr_assert_not_null(at, "no %s in %s", from, TINY);
    memcpy(at, to, strlen(to));
    write_whole_file(scratch_path(out, "edited.safetensors"), bytes, (size_t)size);
    free(bytes);
    return out;
}

Test(pretrained, broken_metadata_refused) {
    const char *cases[][3] = {
        {"\"crop_size\":\"32\"", "\"crop_size\":\"31\"", "metadata \"crop_size\" is \"31\""},
        {"\"gelu\":\"tanh\"", "\"gelu\":\"tans\"", "metadata \"gelu\" is \"tans\""},
        {"\"image_std\":\"0.5,0.5,0.5\"", "\"image_std\":\"0.5,0.5;0.5\"", "\"image_std\""},
        {"\"image_mean\":\"0.5,0.5,0.5\"", "\"image_mean\":\"0.5,0.5    \"", "\"image_mean\""},
        {"tench\\ngoldfish", "tench, goldfish", "holds 9 names, the head 10 classes"},
        {"\"num_heads\":\"3\"", "\"num_heads\":\"5\"", "not divisible by 5 heads"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        Error err;
        cr_expect(!pretrained_open(&p, edited(path, cases[i][0], cases[i][1]), 1, &err), "%s taken",
                  cases[i][1]);
        expect_mentions(err.message, path);
        expect_mentions(err.message, cases[i][2]);
        cr_expect_null(p.mean, "nothing left allocated");
    }
    Error err;
    cr_expect(!pretrained_open(&p, "no/such.safetensors", 1, &err));
    expect_mentions(err.message, "no/such.safetensors: not found");
}

Test(pretrained, random_weights_repeat) {
    VitConfig cfg = {.image_size = 32,
                     .patch_size = 8,
                     .in_channels = 3,
                     .hidden_dim = 48,
                     .mlp_dim = 96,
                     .num_layers = 2,
                     .num_heads = 3,
                     .num_classes = 10};
    pretrained_random(&p, &cfg, 1, 5);
    pretrained_random(&q, &cfg, 1, 5);
    expect_floats_equal("weights", p.vit.params.memory, q.vit.params.memory,
                        (long)p.vit.params.total, 0.0);
    Rng rng;
    rng_seed(&rng, 6);
    float *image = random_floats(&rng, 3 * 32 * 32, 0, 1);
    vit_forward(&p.vit, image, NULL, 1, 0.0f, false);
    float first = p.vit.ha.logits[0];
    bool differ = false;
    for (int k = 1; k < 10; k++) differ |= p.vit.ha.logits[k] != first;
    cr_expect(differ, "a random head gives the classes different scores");
    cr_expect_str_eq(p.classes[7], "class 7");
    cr_expect(p.resize == 37 && p.crop == 32, "torchvision's 256/224, scaled: %d, %d", p.resize,
              p.crop);
}

Test(pretrained, b16_for_inference) {
    const VitConfig *b16 = NULL;
    for (int i = 0; i < vit_variant_count; i++)
        if (strcmp(vit_variants[i].name, "ViT-B/16") == 0) b16 = &vit_variants[i].config;
    cr_assert_not_null(b16);
    vit_build_inference(&p.vit, b16, &(HeadOptions){0}, 1);
    cr_expect_eq(p.vit.params.total, 86567656);
    cr_expect_eq(vit_model_param_count(b16, &(HeadOptions){0}), 86567656);
    cr_expect_null(p.vit.grads.memory);
    cr_expect_lt(p.vit.acts.total * sizeof(float), 200000000, "activations of one image: %zu B",
                 p.vit.acts.total * sizeof(float));
}
