// test_bad_input.c — hostile files and flags: each test makes the bad file
// itself (in a scratch directory it removes), calls what the programs call,
// and checks the one-line message (it names the file or the flag and the
// problem), the refusal, and that nothing was left behind. Cases: images of
// another size than the model's, metadata that describes another model than
// its file holds, sizes that overflow an int (from metadata or from flags),
// weights that are not finite, a normalisation that is not sane, many
// tensors looked up by name, and a checkpoint whose weights and optimizer
// state come from different saves.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "ch06.h"
#include "check.h"
#include "scratch.h"

TestSuite(bad_input, .init = scratch_setup, .fini = scratch_teardown);

// ---- helpers -----------------------------------------------------------------------

//                                    image  P Cin   C MLP  L NH   K
static const VitConfig tiny = {28, 7, 1, 16, 32, 1, 2, 10};

// A tiny ViT with weights drawn from a fixed seed, for batches of up to B.
static void tiny_vit(Vit *m, const VitConfig *cfg, int B) {
    HeadOptions head = {0};
    vit_build(m, cfg, &head, 0.0f, B);
    Rng rng;
    rng_seed(&rng, 7);
    vit_init(m, &rng);
}

// m's weights under metadata whose key says value: a file that lies about itself.
static void write_lying_checkpoint(const char *path, const Vit *m, const char *key,
                                   const char *value) {
    SafetensorsMeta meta = {0};
    vit_kind.describe(&m->model, &meta);
    safetensors_meta_set(&meta, "image_mean", "0.286");
    safetensors_meta_set(&meta, "image_std", "0.353");
    safetensors_meta_set(&meta, key, value);
    Error err;
    cr_assert(safetensors_write(path, &m->params, &meta, &err), "%s", err.message);
}

// Opens path as chapter 06's --eval-only does, for batches of B; must fail.
static void expect_open_refused(const char *path, int B, Error *err) {
    const ModelKind *kinds[] = {&vit_kind};
    Model *m = NULL;
    float mean, std;
    cr_assert_not(checkpoint_open(path, kinds, 1, B, 0.0f, &m, &mean, &std, err));
    cr_assert_null(m);
    expect_mentions(err->message, path);
    cr_assert_null(strchr(err->message, '\n'), "not one line: \"%s\"", err->message);
}

// A big-endian 32-bit number into b.
static void put_u32(unsigned char *b, uint32_t x) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(x >> (24 - 8 * i));
}

// A valid IDX split "<prefix>-images-idx3-ubyte" and "-labels-" in dir: count
// images of side x side.
static void write_split(const char *dir, const char *prefix, int count, int side) {
    size_t pixels = (size_t)count * side * side;
    unsigned char *images = calloc(16 + pixels, 1), labels[8 + 64];
    cr_assert(images != NULL && count <= 64);
    put_u32(images, 0x803);
    put_u32(images + 4, (uint32_t)count);
    put_u32(images + 8, (uint32_t)side);
    put_u32(images + 12, (uint32_t)side);
    for (size_t i = 0; i < pixels; i++) images[16 + i] = (unsigned char)(i * 7);
    put_u32(labels, 0x801);
    put_u32(labels + 4, (uint32_t)count);
    for (int i = 0; i < count; i++) labels[8 + i] = (unsigned char)(i % 10);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    write_whole_file(path, images, 16 + pixels);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    write_whole_file(path, labels, 8 + (size_t)count);
    free(images);
}

// ---- data of another size ------------------------------------------------------------

Test(bad_input, images_of_another_size_are_refused_naming_the_file) {
    write_split(scratch_dir, "t10k", 12, 10);
    FashionMnist test;
    Error err;
    cr_assert(fashion_mnist_load(&test, scratch_dir, FASHION_MNIST_TEST, &err), "%s", err.message);
    cr_assert_not(fashion_mnist_check_size(&test, 28, 28, &err)); // chapter 05's check
    char path[1024];
    expect_mentions(err.message, scratch_path(path, "t10k-images-idx3-ubyte"));
    expect_mentions(err.message, "10x10");
    expect_mentions(err.message, "28x28");
    cr_assert(fashion_mnist_check_size(&test, 10, 10, &err));
    Vit m; // chapter 06's --eval-only check
    tiny_vit(&m, &tiny, 4);
    cr_assert_not(model_takes(&m.model, test.rows, test.cols, 1, test.images_path, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "10x10");
    vit_free(&m);
    fashion_mnist_free(&test);
    cr_assert_eq(dir_count(scratch_dir, NULL), 2, "something was written beside the data");
}

Test(bad_input, training_images_of_another_size_are_refused_not_asserted) {
    write_split(scratch_dir, "train", 20, 10);
    FashionMnist train;
    Error err;
    cr_assert(fashion_mnist_load(&train, scratch_dir, FASHION_MNIST_TRAIN, &err), "%s",
              err.message);
    Vit m;
    tiny_vit(&m, &tiny, 4);
    TrainOptions o = {.epochs = 1, .batch = 4, .lr = 1e-3f, .image_std = 1.0f};
    Trainer t;
    cr_assert_not(trainer_build(&t, &m.model, &train, train.count, &o, &err));
    char path[1024];
    expect_mentions(err.message, scratch_path(path, "train-images-idx3-ubyte"));
    expect_mentions(err.message, "10x10");
    vit_free(&m);
    fashion_mnist_free(&train);
    cr_assert_eq(dir_count(scratch_dir, NULL), 2);
}

// ---- metadata that describes another model than the file holds ---------------------------

Test(bad_input, metadata_with_more_layers_than_tensors_is_refused_before_building) {
    Vit m;
    tiny_vit(&m, &tiny, 2);
    char path[1024];
    write_lying_checkpoint(scratch_path(path, "layers.safetensors"), &m, "num_layers", "128");
    Error err;
    expect_open_refused(path, 2, &err);
    expect_mentions(err.message, "parameters");
    expect_mentions(err.message, "bytes of tensor data");
    write_lying_checkpoint(path, &m, "num_layers", "65536"); // out of range
    expect_open_refused(path, 2, &err);
    expect_mentions(err.message, "\"num_layers\" is \"65536\"");
    vit_free(&m);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
}

Test(bad_input, metadata_with_a_huge_width_and_patch_1_is_refused_before_building) {
    Vit m;
    tiny_vit(&m, &tiny, 2);
    char path[1024];
    scratch_path(path, "wide.safetensors");
    SafetensorsMeta meta = {0};
    vit_kind.describe(&m.model, &meta);
    safetensors_meta_set(&meta, "hidden_dim", "8192");
    safetensors_meta_set(&meta, "num_heads", "1");
    safetensors_meta_set(&meta, "mlp_dim", "32768");
    safetensors_meta_set(&meta, "patch_size", "1");
    safetensors_meta_set(&meta, "image_mean", "0.286");
    safetensors_meta_set(&meta, "image_std", "0.353");
    Error err;
    cr_assert(safetensors_write(path, &m.params, &meta, &err), "%s", err.message);
    expect_open_refused(path, 128, &err);
    expect_mentions(err.message, "the metadata describes a ViT of");
    vit_free(&m);
}

// A true file of a patch-1 model is fine, until the batch makes a size overflow an int.
Test(bad_input, a_batch_whose_sizes_overflow_an_int_is_refused_before_building) {
    VitConfig cfg = tiny;
    cfg.patch_size = 1; // T = 785 tokens
    Vit m;
    tiny_vit(&m, &cfg, 1);
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "p1.safetensors"), &m.model, 0.3f, 0.3f, &err));
    vit_free(&m);
    expect_open_refused(path, 4096, &err); // B NH T T = 4096 * 2 * 785^2 = 5.0e9
    expect_mentions(err.message, "for batches of 4096 images");
    expect_mentions(err.message, "(B,NH,T,T)");
    expect_mentions(err.message, "5048115200");
    const ModelKind *kinds[] = {&vit_kind};
    Model *ok;
    float mean, std;
    cr_assert(checkpoint_open(path, kinds, 1, 2, 0.0f, &ok, &mean, &std, &err), "%s", err.message);
    ok->kind->close(ok);
}

// ---- sizes from flags ----------------------------------------------------------------

Test(bad_input, sizes_are_counted_in_64_bits) {
    VitConfig cfg = {28, 1, 1, 1024, 128, 6, 4, 10}; // --batch 4096 --patch 1 --width 1024
    Error err;
    cr_assert_not(vit_sizes_check(&cfg, 4096, &err));
    expect_mentions(err.message, "(B,T+1,C)");
    expect_mentions(err.message, "3296722944");
    cr_assert(vit_sizes_check(&cfg, 128, &err), "%s", err.message);
    VitConfig huge = {1024, 1, 4096, 8192, 32768, 128, 256, 100000}; // every field at its top
    cr_assert(vit_config_check(&huge, &err), "%s", err.message);
    cr_assert_not(vit_sizes_check(&huge, 4096, &err)); // B N D = 1.8e13, not wrapped to 32 bits
    cr_assert_null(strchr(err.message, '-'), "a negative count: \"%s\"", err.message);
    cr_assert(vit_sizes_check(&vit_small, 4096, &err), "%s", err.message);
}

Test(bad_input, flags_whose_sizes_overflow_exit_2, .exit_code = 2, .init = cr_redirect_stderr) {
    VitConfig cfg = vit_small;
    cfg.patch_size = 1;
    cfg.hidden_dim = 1024;
    vit_config_check_flags(&cfg, 4096, "ch06_classifier");
    cr_assert_fail("vit_config_check_flags returned for --batch 4096 --patch 1 --width 1024");
}

// ---- weights and normalisation -------------------------------------------------------

Test(bad_input, weights_that_are_not_finite_are_refused_naming_the_tensor) {
    Vit m;
    tiny_vit(&m, &tiny, 2);
    char path[1024];
    Error err;
    m.hw.w[3] = NAN;
    cr_assert(checkpoint_save(scratch_path(path, "nan.safetensors"), &m.model, 0.3f, 0.3f, &err));
    expect_open_refused(path, 2, &err);
    expect_mentions(err.message, "heads.head.weight");
    expect_mentions(err.message, "element 3 is nan");
    m.hw.w[3] = 0.0f;
    m.w.conv_w[0] = -INFINITY;
    cr_assert(checkpoint_save(scratch_path(path, "inf.safetensors"), &m.model, 0.3f, 0.3f, &err));
    cr_assert_not(checkpoint_load(path, &m.model, &err)); // as --resume loads
    expect_mentions(err.message, path);
    expect_mentions(err.message, "conv_proj.weight");
    expect_mentions(err.message, "-inf");
    vit_free(&m);
    cr_assert_eq(dir_count(scratch_dir, NULL), 2);
}

Test(bad_input, a_vanishing_image_std_is_refused) {
    Vit m;
    tiny_vit(&m, &tiny, 2);
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "std.safetensors"), &m.model, 0.3f, 1e-45f, &err));
    float mean, std;
    cr_assert_not(checkpoint_normalization(path, &mean, &std, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "\"image_std\" must be at least");
    expect_open_refused(path, 2, &err);
    vit_free(&m);
}

// ---- tensors by name -----------------------------------------------------------------

// 200,000 names: a linear search per add would take 2*10^10 comparisons.
Test(bad_input, tensor_lookup_by_name_stays_fast_for_many_tensors, .timeout = 60) {
    enum { COUNT = 200000 };
    Tensors t;
    tensors_init(&t);
    float **slots = malloc(sizeof(float *) * COUNT); // (COUNT)
    cr_assert(slots != NULL);
    for (int i = 0; i < COUNT; i++)
        tensors_add(&t, &slots[i], 1, (int[]){1 + i % 3}, "encoder.layers.encoder_layer_%d.w", i);
    tensors_alloc(&t);
    for (int i = 0; i < COUNT; i += 997) {
        char name[64];
        snprintf(name, sizeof name, "encoder.layers.encoder_layer_%d.w", i);
        const TensorEntry *e = tensors_find(&t, name);
        cr_assert(e != NULL && e == &t.entries[i], "%s not found in its place", name);
        cr_assert_eq(*e->slot, slots[i]);
    }
    cr_assert_null(tensors_find(&t, "encoder.layers.encoder_layer_200000.w"));
    cr_assert_null(tensors_find(&t, ""));
    tensors_free(&t);
    free(slots);
}

// ---- a checkpoint's two files from different saves ---------------------------------------

// Killed between the weights and the optimizer's state: epoch 2's weights
// beside epoch 1's state must not be resumed as a pair.
Test(bad_input, weights_and_optimizer_state_of_different_epochs_are_not_resumed) {
    write_split(scratch_dir, "train", 16, 28);
    FashionMnist train;
    Error err;
    cr_assert(fashion_mnist_load(&train, scratch_dir, FASHION_MNIST_TRAIN, &err), "%s",
              err.message);
    Vit m, r;
    tiny_vit(&m, &tiny, 4);
    tiny_vit(&r, &tiny, 4);
    TrainOptions o = {.epochs = 3, .batch = 4, .lr = 1e-3f, .image_std = 1.0f};
    Trainer t, resumed;
    cr_assert(trainer_build(&t, &m.model, &train, train.count, &o, &err), "%s", err.message);
    cr_assert(trainer_build(&resumed, &r.model, &train, train.count, &o, &err), "%s", err.message);
    trainer_epoch(&t, NULL);
    char path[1024], state[1024];
    cr_assert(trainer_save(&t, scratch_path(path, "run.safetensors"), &err), "%s", err.message);
    trainer_epoch(&t, NULL);
    cr_assert(checkpoint_save(path, &m.model, 0.0f, 1.0f, &err), "%s", err.message);
    cr_assert_not(trainer_resume(&resumed, path, &err));
    trainer_state_path(state, sizeof state, path);
    expect_mentions(err.message, state);
    expect_mentions(err.message, path);
    expect_mentions(err.message, "from different steps");
    cr_assert_null(strchr(err.message, '\n'), "not one line: \"%s\"", err.message);
    cr_assert(resumed.epoch == 0 && resumed.opt.step == 0, "the refused state was taken");
    cr_assert(trainer_save(&t, path, &err), "%s", err.message); // a whole save resumes
    cr_assert(trainer_resume(&resumed, path, &err), "%s", err.message);
    cr_assert_eq(resumed.epoch, 2);
    trainer_free(&t);
    trainer_free(&resumed);
    vit_free(&m);
    vit_free(&r);
    fashion_mnist_free(&train);
    cr_assert_eq(dir_count(scratch_dir, NULL), 4, "only the data and the two files of the save");
}
