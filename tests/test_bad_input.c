// test_bad_input.c — hostile files and flags: each test makes the bad file
// itself (in a scratch directory it removes), calls what the programs call,
// and checks the one-line message (it names the file or the flag and the
// problem), the refusal, and that nothing was left behind. Cases: images of
// another size than the model's, metadata that describes another model than
// its file holds, sizes that overflow an int (from metadata or from flags),
// weights that are not finite, a normalisation that is not sane, many
// tensors looked up by name, a checkpoint whose weights and optimizer
// state come from different saves, optimizer moments that are not finite,
// hybrid and CNN metadata out of bounds or lying about the file. The last part
// runs the chapter programs themselves (built with the same sanitizers,
// build/asan/chNN_name) on such input and checks their one line on stderr,
// their exit status and that they wrote nothing.
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "ch07.h"
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
static void write_lying_model(const char *path, const Model *m, const char *key,
                              const char *value) {
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "model", m->kind->name);
    m->kind->describe(m, &meta);
    safetensors_meta_set(&meta, "image_mean", "0.286");
    safetensors_meta_set(&meta, "image_std", "0.353");
    safetensors_meta_set(&meta, key, value);
    Error err;
    cr_assert(safetensors_write(path, m->params, &meta, &err), "%s", err.message);
}

static void write_lying_checkpoint(const char *path, const Vit *m, const char *key,
                                   const char *value) {
    write_lying_model(path, &m->model, key, value);
}

// Opens path as chapter 07's --eval-only does (any of the three kinds), for
// batches of B; must fail.
static void expect_open_refused(const char *path, int B, Error *err) {
    const ModelKind *kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Model *m = NULL;
    float mean, std;
    cr_assert_not(checkpoint_open(path, kinds, 3, B, 0.0f, &m, &mean, &std, err));
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

// A trainer of the tiny ViT m on train, batches of 4, 3 epochs.
static void tiny_trainer(Trainer *t, Vit *m, const FashionMnist *train) {
    TrainOptions o = {.epochs = 3, .batch = 4, .lr = 1e-3f, .image_std = 1.0f};
    Error err;
    cr_assert(trainer_build(t, &m->model, train, train->count, &o, &err), "%s", err.message);
}

// --resume with Adam's moments not finite (or a negative second moment): refused,
// naming the optimizer's file, the tensor and the element.
Test(bad_input, optimizer_moments_that_are_not_finite_are_not_resumed) {
    write_split(scratch_dir, "train", 16, 28);
    FashionMnist train;
    Error err;
    cr_assert(fashion_mnist_load(&train, scratch_dir, FASHION_MNIST_TRAIN, &err), "%s",
              err.message);
    Vit m, r;
    tiny_vit(&m, &tiny, 4);
    tiny_vit(&r, &tiny, 4);
    Trainer t, resumed;
    tiny_trainer(&t, &m, &train);
    tiny_trainer(&resumed, &r, &train);
    trainer_epoch(&t, NULL);
    char path[1024], state[1024];
    scratch_path(path, "run.safetensors");
    trainer_state_path(state, sizeof state, path);
    const struct {
        float *x;
        float value;
        const char *says;
    } cases[] = {
        {&t.opt.m[5], NAN, "adamw.m: element 5 is nan"},
        {&t.opt.m[0], INFINITY, "adamw.m: element 0 is inf"},
        {&t.opt.v[7], -INFINITY, "adamw.v: element 7 is -inf"},
        {&t.opt.v[3], -1e-3f, "adamw.v: element 3 is -0.001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float kept = *cases[i].x;
        *cases[i].x = cases[i].value;
        cr_assert(trainer_save(&t, path, &err), "%s", err.message);
        *cases[i].x = kept;
        cr_assert_not(trainer_resume(&resumed, path, &err), "case %zu was resumed", i);
        expect_mentions(err.message, state);
        expect_mentions(err.message, cases[i].says);
        cr_assert_null(strchr(err.message, '\n'), "not one line: \"%s\"", err.message);
    }
    cr_assert(trainer_save(&t, path, &err), "%s", err.message); // finite moments resume
    cr_assert(trainer_resume(&resumed, path, &err), "%s", err.message);
    trainer_free(&t);
    trainer_free(&resumed);
    vit_free(&m);
    vit_free(&r);
    fashion_mnist_free(&train);
    cr_assert_eq(dir_count(scratch_dir, NULL), 4, "only the data and the two files of the save");
}

// ---- hybrid and CNN checkpoints ----------------------------------------------------------

// Chapter 07's CNN and hybrid (their real shapes), weights from a fixed seed.
static void small_cnn(Cnn *c) {
    cnn_build(c, &resnet_cnn_body, 10, 0.0f, 1);
    Rng rng;
    rng_seed(&rng, 3);
    cnn_init(c, &rng);
}

static void small_hybrid(Hybrid *h) {
    VitConfig encoder = hybrid_encoder_config(&resnet_hybrid_stem, &vit_small);
    hybrid_build(h, &resnet_hybrid_stem, &encoder, &(HeadOptions){0}, 0.0f, 1);
    Rng rng;
    rng_seed(&rng, 3);
    hybrid_init(h, &rng);
}

typedef struct {
    const char *key, *value; // the lie
    const char *says;        // what the message must mention
} Lie;

// Each lie about m's metadata, written to a file and opened: refused before a
// model is built, one line naming the file.
static void expect_lies_refused(const Model *m, const Lie *lies, int count) {
    char path[1024];
    scratch_path(path, "lying.safetensors");
    for (int i = 0; i < count; i++) {
        write_lying_model(path, m, lies[i].key, lies[i].value);
        Error err;
        expect_open_refused(path, 128, &err);
        expect_mentions(err.message, lies[i].says);
    }
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
}

Test(bad_input, cnn_metadata_out_of_bounds_or_lying_is_refused_before_building) {
    Cnn c;
    small_cnn(&c);
    const Lie lies[] = {
        {"body.stage1_units", "65536", "\"body.stage1_units\" is \"65536\""},
        {"body.stage1_units", "16", "20 units in all, at most 16"},
        {"body.stage1_units", "3", "bytes of tensor data"}, // in bounds, but not the file's
        {"body.stage2_width", "0", "stage 2 needs at least one unit, a width and a stride"},
        {"body.stage2_width", "-32", "\"body.stage2_width\" is \"-32\""},
        {"body.stage3_width", "2147483647", "\"body.stage3_width\" is \"2147483647\""},
        {"body.stage3_width", "4096", "a CNN of"},
        {"body.groups", "7", "root width 16 is not divisible by 7 groups"},
        {"body.groups", "0", "\"body.groups\" is \"0\""},
        {"body.num_stages", "4", "stage 4 needs at least one unit"},
        {"body.root_kernel", "4", "root kernel size must be odd"},
        {"num_classes", "100000", "bytes of tensor data"},
    };
    expect_lies_refused(&c.model, lies, sizeof lies / sizeof lies[0]);
    cnn_free(&c);
}

Test(bad_input, hybrid_metadata_out_of_bounds_or_lying_is_refused_before_building) {
    Hybrid h;
    small_hybrid(&h);
    const Lie lies[] = {
        {"num_layers", "128", "the metadata describes a hybrid of"},
        {"num_layers", "65536", "\"num_layers\" is \"65536\""},
        {"stem.stage1_units", "16", "bytes of tensor data"},
        {"stem.stage1_width", "0", "the stem: stage 1 needs at least one unit"},
        {"stem.root_width", "-16", "\"stem.root_width\" is \"-16\""},
        {"stem.groups", "3", "the stem: root width 16 is not divisible by 3 groups"},
        {"hidden_dim", "8190", "width 8190 is not divisible by 4 heads"},
        {"image_size", "5", "not the stem's 4x4 map"},
        {"in_channels", "16384", "\"in_channels\" is \"16384\""},
    };
    expect_lies_refused(&h.model, lies, sizeof lies / sizeof lies[0]);
    hybrid_free(&h);
}

// A true CNN file for 1024x1024 images: fine for small batches, refused for a
// batch whose maps an int cannot index, before anything is allocated.
Test(bad_input, a_cnn_whose_maps_overflow_an_int_is_refused_for_that_batch) {
    Cnn c;
    small_cnn(&c);
    char path[1024];
    write_lying_model(scratch_path(path, "big.safetensors"), &c.model, "body.image_size", "1024");
    Error err;
    expect_open_refused(path, 4096, &err);
    expect_mentions(err.message, "for batches of 4096 images");
    expect_mentions(err.message, "(B,Cin,S,S) would hold 4294967296 elements");
    cnn_free(&c);
}

Test(bad_input, resnet_sizes_are_counted_in_64_bits) {
    ResNetConfig top = {1024,        16, 4096, 15, 1, 1, 4, {4, 4, 4, 4}, {4096, 4096, 4096, 4096},
                        {1, 1, 1, 1}}; // every field at its top
    Error err;
    cr_assert(resnet_config_check(&top, &err), "%s", err.message);
    cr_assert_not(resnet_sizes_check(&top, 4096, &err));
    cr_assert_null(strchr(err.message, '-'), "a negative count: \"%s\"", err.message);
    cr_assert_not(resnet_sizes_check(&top, 1, &err)); // 16384 channels of 1024x1024
    expect_mentions(err.message, "more than the 2147483647 an int indexes");
    cr_assert(resnet_sizes_check(&resnet_cnn_body, 4096, &err), "%s", err.message);
    VitConfig encoder = hybrid_encoder_config(&resnet_hybrid_stem, &vit_small);
    cr_assert(hybrid_sizes_check(&resnet_hybrid_stem, &encoder, 4096, &err), "%s", err.message);
    cr_assert(cnn_sizes_check(&resnet_cnn_body, 10, 4096, &err), "%s", err.message);
    ResNetConfig wide = resnet_cnn_body;
    wide.image_size = 1024;
    cr_assert_not(cnn_sizes_check(&wide, 10, 4096, &err));
    expect_mentions(err.message, "(B,Cin,S,S)");
    encoder.num_heads = 1;
    encoder.image_size = 1024; // not the stem's map: only the sizes are asked about
    cr_assert_not(hybrid_sizes_check(&resnet_hybrid_stem, &encoder, 4096, &err));
    expect_mentions(err.message, "the encoder's");
}

// ---- the programs, run on bad input -------------------------------------------------------

// Runs build/asan/<program> with args (NULL-terminated) in a child, stdout to
// /dev/null, stderr into text (n bytes); returns its exit status, or -1 when a
// signal ended it (a sanitizer's abort, a crash, or 120 s gone by).
static int run_program(const char *program, const char *const *args, char *text, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "build/asan/%s", program);
    cr_assert_eq(access(path, X_OK), 0, "%s is not built (make build/test/run_tests makes it)",
                 path);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 1) < 0 || dup2(fds[1], 2) < 0) _exit(126);
        close(fds[0]);
        setenv("OMP_NUM_THREADS", "1", 1);
        alarm(120); // a hang ends in SIGALRM (Criterion's .timeout leaks in its runner when
                    // two such tests overlap under --jobs 2)
        char *argv[32] = {path};
        for (int i = 0; args[i] != NULL && i < 30; i++) argv[i + 1] = (char *)args[i];
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    char sink[256];
    for (;;) { // read it all, keeping what fits
        ssize_t r = got + 1 < n ? read(fds[0], text + got, n - 1 - got) : read(fds[0], sink, 256);
        if (r <= 0) break;
        if (got + 1 < n) got += (size_t)r;
    }
    text[got] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// program args must exit with status, one line on stderr "program: ..."
// mentioning each of says (NULL-terminated), and leave nothing at the paths of
// left (NULL-terminated).
static void expect_program_refuses(const char *program, const char *const *args, int status,
                                   const char *const *says, const char *const *left) {
    char text[4096];
    int got = run_program(program, args, text, sizeof text);
    cr_assert_eq(got, status, "%s exited %d, not %d; it said: %s", program, got, status, text);
    char *newline = strchr(text, '\n');
    cr_assert(newline != NULL && newline[1] == '\0', "%s: not one line: \"%s\"", program, text);
    cr_assert_eq(strncmp(text, program, strlen(program)), 0, "not \"%s: ...\": %s", program, text);
    for (int i = 0; says[i] != NULL; i++) expect_mentions(text, says[i]);
    for (int i = 0; left[i] != NULL; i++)
        cr_assert_not(file_exists(left[i]), "%s ran on bad input and left %s", program, left[i]);
}

// Where the programs are pointed at: scratch/data, /out, /models, /ck.
typedef struct {
    char data[1024], out[1024], models[1024], ck[1024], vit[1100];
} Places;

// The places; models/ holds a true tiny ViT as vit.safetensors, and files
// named hybrid.safetensors and cnn.safetensors (chapter 08 asks only that they
// exist before it reads the data).
static void places_make(Places *p) {
    scratch_path(p->data, "data");
    scratch_path(p->out, "out");
    scratch_path(p->models, "models");
    scratch_path(p->ck, "ck");
    cr_assert(mkdir(p->data, 0700) == 0 && mkdir(p->models, 0700) == 0);
    snprintf(p->vit, sizeof p->vit, "%s/vit.safetensors", p->models);
    Vit m;
    tiny_vit(&m, &tiny, 1);
    Error err;
    cr_assert(checkpoint_save(p->vit, &m.model, 0.286f, 0.353f, &err), "%s", err.message);
    vit_free(&m);
    char path[1100];
    snprintf(path, sizeof path, "%s/hybrid.safetensors", p->models);
    write_whole_file(path, "x", 1);
    snprintf(path, sizeof path, "%s/cnn.safetensors", p->models);
    write_whole_file(path, "x", 1);
}

// Every program that reads the data directory, on p->data: each must exit 1
// with one line mentioning says, and write nothing (no out/, no ck/, nothing
// new in models/).
static void expect_every_program_refuses_the_data(const Places *p, const char *says) {
    char vit_ck[1100];
    snprintf(vit_ck, sizeof vit_ck, "%s/vit.safetensors", p->ck);
    const char *const plain[] = {"--data", p->data, "--out", p->out, NULL};
    const char *const runs[][16] = {
        {"ch01_patches", NULL},
        {"ch02_embedding", NULL},
        {"ch03_attention", NULL},
        {"ch04_multihead", NULL},
        {"ch05_encoder", NULL},
        {"ch06_classifier", "--checkpoint", vit_ck, "--epochs", "1", NULL},
        {"ch06_classifier", "--checkpoint", p->vit, "--eval-only", NULL},
        {"ch07_hybrid", "--models", p->ck, "--vit-model", p->vit, "--sizes", "10", NULL},
        {"ch07_hybrid", "--model", "cnn", "--models", p->ck, NULL},
        {"ch07_hybrid", "--eval-only", p->vit, NULL},
        {"ch08_equivariance", "--models", p->models, NULL},
        {"ch09_inspect", "--model", p->vit, NULL},
        {"ch10_finetune", "--model", p->vit, "--models", p->ck, NULL},
        {"ch12_selfsupervised", "--models", p->ck, "--vit-model", p->vit, NULL},
    };
    const char *const left[] = {p->out, p->ck, NULL};
    const char *const mentions[] = {p->data, says, NULL};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        const char *args[24];
        int n = 0;
        for (int i = 0; plain[i] != NULL; i++) args[n++] = plain[i];
        for (int i = 1; runs[r][i] != NULL; i++) args[n++] = runs[r][i];
        args[n] = NULL;
        expect_program_refuses(runs[r][0], args, 1, mentions, left);
        cr_assert_eq(dir_count(p->models, NULL), 3, "%s wrote into the models", runs[r][0]);
        cr_assert_eq(dir_count(scratch_dir, NULL), 2, "%s left something", runs[r][0]);
    }
}

Test(bad_input, every_program_refuses_images_of_another_size) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 10);
    write_split(p.data, "train", 20, 10);
    expect_every_program_refuses_the_data(&p, "images of 10x10");
}

Test(bad_input, every_program_refuses_labels_that_do_not_match_the_images) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    write_split(p.data, "train", 20, 28);
    unsigned char labels[8 + 11] = {0, 0, 8, 1, 0, 0, 0, 11}; // 11 labels for 12 images
    char path[1100];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", p.data);
    write_whole_file(path, labels, sizeof labels);
    expect_every_program_refuses_the_data(&p, "11 labels, but");
}

Test(bad_input, chapters_08_and_09_refuse_fewer_test_images_than_they_measure) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    const char *const ch08[] = {"--data", p.data, "--out", p.out, "--models", p.models, NULL};
    const char *const says[] = {"t10k-images-idx3-ubyte: 12 test images", "the first 1000", NULL};
    const char *const left[] = {p.out, NULL};
    expect_program_refuses("ch08_equivariance", ch08, 1, says, left);
    const char *const ch09[] = {"--data", p.data, "--out", p.out, "--model", p.vit, NULL};
    expect_program_refuses("ch09_inspect", ch09, 1, says, left);
}

Test(bad_input, chapter_10_checks_its_models_before_any_work) {
    Places p;
    places_make(&p);
    const char *const left[] = {p.out, NULL};
    // chapter 06's model missing: the command that makes it
    char absent[1100];
    snprintf(absent, sizeof absent, "%s/absent.safetensors", p.models);
    const char *const missing[] = {"--data", p.data, "--out", p.out, "--model", absent, NULL};
    const char *const makes[] = {absent, "not found", "build/ch06_classifier", NULL};
    expect_program_refuses("ch10_finetune", missing, 1, makes, left);
    // a transfer model saved with ten classes, not the five of classes 0-4
    char transfer[1100];
    snprintf(transfer, sizeof transfer, "%s/vit_classes0to4.safetensors", p.models);
    Vit m;
    tiny_vit(&m, &tiny, 1);
    Error err;
    cr_assert(checkpoint_save(transfer, &m.model, 0.286f, 0.353f, &err), "%s", err.message);
    vit_free(&m);
    const char *const args[] = {"--data", p.data,     "--out",  p.out, "--model",
                                p.vit,    "--models", p.models, NULL};
    const char *const classes[] = {transfer, "a model for 10 classes, not the 5", "--retrain",
                                   NULL};
    expect_program_refuses("ch10_finetune", args, 1, classes, left);
}

Test(bad_input, chapter_10_refuses_fewer_training_images_than_it_draws_from) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    write_split(p.data, "train", 20, 28);
    const char *const args[] = {"--data", p.data,     "--out", p.out, "--model",
                                p.vit,    "--models", p.ck,    NULL};
    const char *const says[] = {"train-images-idx3-ubyte: 20 training images", "images 50000-51999",
                                NULL};
    const char *const left[] = {p.out, p.ck, NULL};
    expect_program_refuses("ch10_finetune", args, 1, says, left);
}

Test(bad_input, chapter_07_refuses_hostile_hybrid_and_cnn_checkpoints) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    Cnn c;
    small_cnn(&c);
    Hybrid h;
    small_hybrid(&h);
    char path[1024];
    scratch_path(path, "hostile.safetensors");
    const struct {
        const Model *m;
        Lie lie;
    } cases[] = {
        {&c.model, {"body.stage1_units", "65536", "\"body.stage1_units\" is \"65536\""}},
        {&c.model, {"body.stage2_width", "0", "stage 2 needs at least one unit"}},
        {&c.model, {"body.groups", "7", "not divisible by 7 groups"}},
        {&c.model, {"body.stage3_width", "4096", "bytes of tensor data"}},
        {&c.model, {"body.image_size", "1024", "for batches of 4096 images"}},
        {&h.model, {"num_layers", "128", "bytes of tensor data"}},
        {&h.model, {"stem.stage1_width", "-16", "\"stem.stage1_width\" is \"-16\""}},
    };
    const char *const args[] = {"--data", p.data,    "--out", p.out, "--eval-only",
                                path,     "--batch", "4096",  NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_lying_model(path, cases[i].m, cases[i].lie.key, cases[i].lie.value);
        const char *const says[] = {path, cases[i].lie.says, NULL};
        const char *const left[] = {p.out, NULL};
        expect_program_refuses("ch07_hybrid", args, 1, says, left);
    }
    cnn_free(&c);
    hybrid_free(&h);
}

Test(bad_input, chapter_06_refuses_to_resume_moments_that_are_not_finite) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    write_split(p.data, "train", 16, 28);
    FashionMnist train;
    Error err;
    cr_assert(fashion_mnist_load(&train, p.data, FASHION_MNIST_TRAIN, &err), "%s", err.message);
    Vit m;
    tiny_vit(&m, &tiny, 4);
    Trainer t;
    tiny_trainer(&t, &m, &train);
    trainer_epoch(&t, NULL);
    t.opt.m[5] = NAN;
    char run[1024], state[1024], next[1100];
    cr_assert(trainer_save(&t, scratch_path(run, "run.safetensors"), &err), "%s", err.message);
    trainer_state_path(state, sizeof state, run);
    snprintf(next, sizeof next, "%s/vit.safetensors", p.ck);
    const char *const args[] = {
        "--data", p.data,    "--out", p.out,      "--resume", run, "--checkpoint",
        next,     "--batch", "4",     "--epochs", "3",        NULL};
    const char *const says[] = {state, "adamw.m: element 5 is nan", NULL};
    const char *const left[] = {p.out, p.ck, NULL};
    expect_program_refuses("ch06_classifier", args, 1, says, left);
    cr_assert_eq(dir_count(scratch_dir, ".tmp."), 0);
    trainer_free(&t);
    vit_free(&m);
    fashion_mnist_free(&train);
}

Test(bad_input, chapter_06_refuses_flags_whose_sizes_overflow) {
    Places p;
    places_make(&p);
    const char *const args[] = {"--data",  p.data, "--out",   p.out,  "--batch", "4096",
                                "--patch", "1",    "--width", "1024", NULL};
    const char *const says[] = {"--batch 4096", "(B,T+1,C)", NULL};
    const char *const left[] = {p.out, NULL};
    expect_program_refuses("ch06_classifier", args, 2, says, left);
}

Test(bad_input, an_output_that_cannot_be_written_leaves_no_figures_directory) {
    Places p;
    places_make(&p);
    write_split(p.data, "t10k", 12, 28);
    write_split(p.data, "train", 20, 28);
    const char *const left[] = {p.out, NULL};
    const char *const ch06[] = {
        "--data",   p.data, "--out", p.out, "--checkpoint", "/proc/vit-in-c/vit.safetensors",
        "--epochs", "1",    NULL};
    const char *const says[] = {"/proc/vit-in-c", NULL};
    expect_program_refuses("ch06_classifier", ch06, 1, says, left);
    const char *const ch07[] = {"--data", p.data,    "--out", p.out,      "--model",
                                "cnn",    "--sizes", "10",    "--models", "/proc/vit-in-c",
                                NULL};
    expect_program_refuses("ch07_hybrid", ch07, 1, says, left);
}

Test(bad_input, chapter_11_refuses_a_bad_photo_and_bad_weights_leaving_nothing) {
    Places p;
    places_make(&p);
    const char *const left[] = {p.out, NULL};
    char photo[1024], good[1024], weights[1024];
    write_whole_file(scratch_path(photo, "photo.png"), "not a picture", 13);
    const char *const bad_photo[] = {"--random", "--image", photo, "--out", p.out, NULL};
    const char *const says_photo[] = {photo, NULL};
    expect_program_refuses("ch11_pretrained", bad_photo, 1, says_photo, left);
    Image img = image_new(8, 6, 3);
    Error err;
    cr_assert(image_write_png(scratch_path(good, "good.png"), &img, &err), "%s", err.message);
    image_free(&img);
    write_whole_file(scratch_path(weights, "w.safetensors"), "\x10\0\0\0\0\0\0\0{}", 10);
    const char *const bad_weights[] = {"--weights", weights, "--image", good, "--out", p.out, NULL};
    const char *const says_weights[] = {weights, "header length 16", NULL};
    expect_program_refuses("ch11_pretrained", bad_weights, 1, says_weights, left);
    // no weights at all: the first line says so, the lines after it how to get them
    char missing[1024], text[4096];
    scratch_path(missing, "none.safetensors");
    const char *const no_weights[] = {"--weights", missing, "--out", p.out, NULL};
    cr_assert_eq(run_program("ch11_pretrained", no_weights, text, sizeof text), 1);
    cr_assert_eq(strncmp(text, "ch11_pretrained: ", 17), 0, "%s", text);
    expect_mentions(text, missing);
    expect_mentions(text, "--random");
    expect_mentions(text, "tools/convert_weights.py");
    cr_assert_not(file_exists(p.out), "left %s", p.out);
}
