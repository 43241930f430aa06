// test_06_safetensors.c — checkpoints in the safetensors format: a write and
// read back is bit-exact, metadata included; the file carries torchvision's
// shapes and an aligned header; every broken file the tests can think of
// (cut anywhere, bad header length, bad JSON, another dtype, another shape, a
// missing or extra tensor, overlapping or uncovered data) is refused with a
// message naming the file; and a real torchvision VisionTransformer saved by
// tools/checkpoint_torch.py loads here by name and gives torch's logits.
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "encoder.h"
#include "fixture.h"
#include "linear.h"
#include "safetensors.h"
#include "scratch.h"
#include "vit.h"

#define TORCHVISION_FILE FIXTURE_DIR "/06_torchvision_tiny.safetensors"

// ---- a small model -------------------------------------------------------------

// Four tensors under torchvision's names, two of which torchvision keeps with
// leading 1s: class_token (C) and encoder.pos_embedding (T,C).
typedef struct {
    float *class_token, *pos, *conv_w, *head_b;
} Small;

// What the tests build, freed even when a test fails.
static Tensors model, other;
static Small mw, ow;
static Fixture io;
static Encoder enc;
static Vit vit;

static void small_list(Tensors *t, Small *w) {
    tensors_init(t);
    tensors_add(t, &w->class_token, 1, (int[]){4}, "class_token");
    tensors_add(t, &w->pos, 2, (int[]){3, 4}, "encoder.pos_embedding");
    tensors_add(t, &w->conv_w, 4, (int[]){4, 1, 2, 2}, "conv_proj.weight");
    tensors_add(t, &w->head_b, 1, (int[]){2}, "heads.head.bias");
    tensors_alloc(t);
}

// Values whose bits must survive: signed zero, a subnormal, the extremes,
// infinities and a NaN with a payload; then ordinary numbers.
static void small_fill(Tensors *t) {
    uint32_t nan_bits = 0x7fc01234u;
    float specials[7] = {-0.0f, 1e-40f, FLT_MAX, -FLT_MIN, INFINITY, -INFINITY}; // and the NaN:
    memcpy(&specials[6], &nan_bits, sizeof nan_bits);
    for (size_t i = 0; i < t->total; i++)
        t->memory[i] = i < 7 ? specials[i] : 0.1f * (float)i - 1.5f;
}

static void setup(void) {
    scratch_setup();
    small_list(&model, &mw);
    small_list(&other, &ow);
    small_fill(&model);
}

static void teardown(void) {
    tensors_free(&model);
    tensors_free(&other);
    fixture_free(&io);
    encoder_free(&enc);
    vit_free(&vit);
    scratch_teardown();
}

TestSuite(safetensors, .init = setup, .fini = teardown);

static SafetensorsMeta small_meta(void) {
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "image_size", "28");
    safetensors_meta_set(&meta, "image_mean", "0.2860");
    safetensors_meta_set(&meta, "note", "a \"quoted\" \\ path\n\tand caf\xc3\xa9");
    return meta;
}

// Writes the small model to name in the scratch directory; returns its path.
static char *write_small(char path[1024], const char *name) {
    SafetensorsMeta meta = small_meta();
    Error err;
    cr_assert(safetensors_write(scratch_path(path, name), &model, &meta, &err), "%s", err.message);
    return path;
}

// ---- the round trip ------------------------------------------------------------

Test(safetensors, write_then_read_is_bit_exact_with_the_metadata) {
    char path[1024];
    write_small(path, "small.safetensors");
    cr_assert_eq(dir_count(scratch_dir, NULL), 1, "only the checkpoint should be left");
    Error err;
    cr_assert(safetensors_read(path, &other, &err), "%s", err.message);
    cr_assert_eq(memcmp(other.memory, model.memory, model.total * sizeof(float)), 0,
                 "the values read back differ in their bits");
    SafetensorsMeta want = small_meta(), got;
    cr_assert(safetensors_read_meta(path, &got, &err), "%s", err.message);
    cr_assert_eq(got.count, want.count);
    for (int i = 0; i < want.count; i++) {
        cr_assert_str_eq(got.keys[i], want.keys[i]);
        cr_assert_str_eq(got.values[i], want.values[i]);
    }
}

// The file's bytes in memory (safetensors_read_from, what the fuzz target
// calls) read as the file does, twice from one Input; cut short, they are
// refused under the name given.
Test(safetensors, bytes_in_memory_read_as_the_file_does) {
    char path[1024];
    long size;
    char *bytes = read_whole_file(write_small(path, "small.safetensors"), &size);
    Input in;
    Error err;
    cr_assert(input_open_memory(&in, bytes, (size_t)size, "in memory", &err), "%s", err.message);
    SafetensorsMeta got;
    cr_assert(safetensors_read_meta_from(&in, &got, &err), "%s", err.message);
    cr_assert_str_eq(safetensors_meta_get(&got, "image_size"), "28");
    cr_assert(safetensors_read_from(&in, &other, &err), "%s", err.message);
    cr_assert_eq(memcmp(other.memory, model.memory, model.total * sizeof(float)), 0,
                 "the values read from memory differ in their bits");
    input_close(&in);
    cr_assert(input_open_memory(&in, bytes, (size_t)size - 4, "cut", &err), "%s", err.message);
    cr_assert_not(safetensors_read_from(&in, &other, &err));
    expect_mentions(err.message, "cut: tensor");
    expect_mentions(err.message, "(truncated?)");
    input_close(&in);
    cr_assert(input_open_memory(&in, bytes, 0, "nothing", &err), "%s", err.message);
    cr_assert_not(safetensors_read_meta_from(&in, &got, &err));
    expect_mentions(err.message, "nothing: 0 bytes: too short for a safetensors file");
    input_close(&in);
    free(bytes);
}

Test(safetensors, a_file_of_metadata_only_round_trips) {
    char path[1024];
    Tensors none;
    tensors_init(&none);
    SafetensorsMeta meta = small_meta(), got;
    Error err;
    cr_assert(safetensors_write(scratch_path(path, "empty.safetensors"), &none, &meta, &err), "%s",
              err.message);
    cr_assert(safetensors_read(path, &none, &err), "%s", err.message);
    cr_assert(safetensors_read_meta(path, &got, &err), "%s", err.message);
    cr_assert_str_eq(safetensors_meta_get(&got, "note"), safetensors_meta_get(&meta, "note"));
}

Test(safetensors, metadata_set_replaces_and_get_misses) {
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "num_layers", "6");
    safetensors_meta_set(&meta, "num_heads", "4");
    safetensors_meta_set(&meta, "num_layers", "12");
    cr_assert_eq(meta.count, 2);
    cr_assert_str_eq(safetensors_meta_get(&meta, "num_layers"), "12");
    cr_assert_null(safetensors_meta_get(&meta, "num_classes"));
}

// The little-endian u64 at bytes.
static uint64_t u64_at(const char *bytes) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = v << 8 | (unsigned char)bytes[b];
    return v;
}

Test(safetensors, the_file_has_torchvision_shapes_and_an_aligned_header) {
    char path[1024];
    long size;
    char *bytes = read_whole_file(write_small(path, "small.safetensors"), &size);
    uint64_t n = u64_at(bytes);
    cr_assert_eq(n % 8, 0, "the data should start at a multiple of 8 (header %llu bytes)",
                 (unsigned long long)n);
    cr_assert_eq((uint64_t)size, 8 + n + model.total * sizeof(float));
    bytes[8 + n] = '\0'; // the header as a string
    const char *header = bytes + 8;
    cr_assert_eq(header[0], '{');
    expect_mentions(header, "\"class_token\":{\"dtype\":\"F32\",\"shape\":[1,1,4],"
                            "\"data_offsets\":[0,16]}");
    expect_mentions(header, "\"encoder.pos_embedding\":{\"dtype\":\"F32\",\"shape\":[1,3,4],"
                            "\"data_offsets\":[16,64]}");
    expect_mentions(header, "\"conv_proj.weight\":{\"dtype\":\"F32\",\"shape\":[4,1,2,2]");
    expect_mentions(header, "\"note\":\"a \\\"quoted\\\" \\\\ path\\u000a\\u0009and caf\xc3\xa9\"");
    free(bytes);
}

// ---- refused files ---------------------------------------------------------------

// Reading path into the small model must fail, name the file and mention part;
// the model's values must be left as they were.
static void expect_refused(const char *path, const char *part) {
    for (size_t i = 0; i < other.total; i++) other.memory[i] = 7.0f;
    Error err = {{0}};
    cr_assert_not(safetensors_read(path, &other, &err), "%s was accepted", path);
    expect_mentions(err.message, path);
    expect_mentions(err.message, part);
    for (size_t i = 0; i < other.total; i++)
        cr_assert_eq(other.memory[i], 7.0f, "a refused file changed the model");
}

// The length of json once padded with spaces so that the data starts at a
// multiple of 8.
static size_t padded_length(const char *json) {
    size_t n = strlen(json);
    return n + (8 - (8 + n) % 8) % 8;
}

// A file of the header length n, json padded, and data_bytes bytes of data
// (zeros if data is NULL).
static char *write_file(char path[1024], uint64_t n, const char *json, const void *data,
                        size_t data_bytes) {
    size_t length = strlen(json), padded = padded_length(json);
    size_t size = 8 + padded + data_bytes;
    char *bytes = calloc(size, 1);
    for (int b = 0; b < 8; b++) bytes[b] = (char)(n >> (8 * b));
    memcpy(bytes + 8, json, length);
    memset(bytes + 8 + length, ' ', padded - length);
    if (data != NULL) memcpy(bytes + 8 + padded, data, data_bytes);
    write_whole_file(scratch_path(path, "broken.safetensors"), bytes, size);
    free(bytes);
    return path;
}

// The same with the right header length and zero data.
static char *write_raw(char path[1024], const char *json, size_t data_bytes) {
    return write_file(path, padded_length(json), json, NULL, data_bytes);
}

// A header for the small model with tensor `name` described by `entry`
// instead, and the rest as written here.
static const char *small_json(char out[1024], const char *name, const char *entry) {
    static const char *names[] = {"class_token", "encoder.pos_embedding", "conv_proj.weight",
                                  "heads.head.bias"};
    static const char *entries[] = {
        "{\"dtype\":\"F32\",\"shape\":[1,1,4],\"data_offsets\":[0,16]}",
        "{\"dtype\":\"F32\",\"shape\":[1,3,4],\"data_offsets\":[16,64]}",
        "{\"dtype\":\"F32\",\"shape\":[4,1,2,2],\"data_offsets\":[64,128]}",
        "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[128,136]}"};
    int n = snprintf(out, 1024, "{");
    for (int i = 0; i < 4; i++)
        n += snprintf(out + n, (size_t)(1024 - n), "%s\"%s\":%s", i ? "," : "", names[i],
                      strcmp(names[i], name) == 0 ? entry : entries[i]);
    snprintf(out + n, (size_t)(1024 - n), "}");
    return out;
}

Test(safetensors, refuses_a_file_cut_anywhere) {
    char path[1024], cut[1024];
    long size;
    char *bytes = read_whole_file(write_small(path, "small.safetensors"), &size);
    scratch_path(cut, "cut.safetensors");
    for (long n = 0; n < size; n++) {
        write_whole_file(cut, bytes, (size_t)n);
        expect_refused(cut, n < 8 ? "too short" : "truncated");
        SafetensorsMeta meta;
        Error err;
        cr_assert_not(safetensors_read_meta(cut, &meta, &err), "%ld bytes accepted", n);
    }
    free(bytes);
}

Test(safetensors, refuses_a_bad_header_length) {
    char path[1024], json[1024];
    small_json(json, "", "");
    expect_refused(write_file(path, 1ull << 40, json, NULL, 136),
                   "over the 100000000 bytes allowed");
    expect_refused(write_file(path, 100000008, json, NULL, 136),
                   "over the 100000000 bytes allowed");
    expect_refused(write_file(path, 8000, json, NULL, 136), "truncated?");
    expect_refused(write_file(path, 0, json, NULL, 136), "expected '{'");
    expect_refused(write_file(path, 8, json, NULL, 136), "unterminated string");
    Error err;
    cr_assert_not(safetensors_read("/nonexistent/x.safetensors", &other, &err));
    expect_mentions(err.message, "/nonexistent/x.safetensors: not found");
    cr_assert_not(safetensors_read(scratch_dir, &other, &err));
    expect_mentions(err.message, "not a regular file");
}

Test(safetensors, refuses_bad_json) {
    static const struct {
        const char *json, *part;
    } cases[] = {
        {"[]", "expected '{'"},
        {"{\"a\":{\"dtype\":\"F32\"", "expected ','"},
        {"{\"a\" {}}", "expected ':'"},
        {"{\"__metadata__\":{},}", "expected '\"'"},
        {"{\"__metadata__\":{}} x", "text after the closing '}'"},
        {"{\"a\":{\"dtype\":\"F3", "unterminated string"},
        {"{\"a\\q\":{}}", "bad escape"},
        {"{\"a\\u00G0\":{}}", "bad \\u escape"},
        {"{\"a\\udc00\":{}}", "lone low surrogate"},
        {"{\"a\\ud800x\":{}}", "high surrogate without its low half"},
        {"{\"a\\u0000\":{}}", "NUL in a string"},
        {"{\"a\tb\":{}}", "control character"},
        {"{\"a\":{\"shape\":[1.5]}}", "expected ']'"},
        {"{\"a\":{\"shape\":[-1]}}", "expected a non-negative integer"},
        {"{\"a\":{\"shape\":[01]}}", "leading 0"},
        {"{\"a\":{\"shape\":[99999999999999999999]}}", "integer too large"},
        {"{\"a\":{\"shape\":[1,1,1,1,1,1,1,1,1]}}", "array too long"},
        {"{\"a\":{\"data_offsets\":[0,4,8]}}", "array too long"},
        {"{\"a\":{\"data_offsets\":[8,4]}}", "data_offsets must be [begin, end]"},
        {"{\"a\":{\"shape\":[],\"shape\":[]}}", "unexpected or repeated field \"shape\""},
        {"{\"a\":{\"offsets\":[0,4]}}", "unexpected or repeated field \"offsets\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "needs dtype, shape and data_offsets"},
        {"{\"__metadata__\":{\"a\":1}}", "metadata \"a\" is not a string"},
        {"{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", "\"a\" appears twice"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", "two __metadata__ objects"},
    };
    char path[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(write_raw(path, cases[i].json, 0), cases[i].part);
    char long_name[300] = "{\"";
    memset(long_name + 2, 'x', 200);
    strcpy(long_name + 202, "\":{}}");
    expect_refused(write_raw(path, long_name, 0), "a tensor name longer than 127 bytes");
}

Test(safetensors, refuses_another_dtype_naming_the_tensor) {
    char path[1024], json[1024];
    const char *bf16 = "{\"dtype\":\"BF16\",\"shape\":[1,3,4],\"data_offsets\":[16,64]}";
    expect_refused(write_raw(path, small_json(json, "encoder.pos_embedding", bf16), 136),
                   "tensor encoder.pos_embedding is BF16; only F32 checkpoints are read");
    const char *f16 = "{\"shape\":[2],\"dtype\":\"F16\",\"data_offsets\":[128,132]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", f16), 132),
                   "tensor heads.head.bias is F16; only F32 checkpoints are read");
}

Test(safetensors, refuses_data_that_overlaps_leaves_holes_or_does_not_fit) {
    char path[1024], json[1024];
    const char *overlap = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[124,132]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", overlap), 132),
                   "tensors conv_proj.weight and heads.head.bias overlap");
    const char *hole = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[132,140]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", hole), 140),
                   "data bytes 128..132 belong to no tensor");
    expect_refused(write_raw(path, small_json(json, "", ""), 144), "8 bytes after the last");
    const char *past = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[128,136]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", past), 132),
                   "heads.head.bias: data ends at byte 136 but the file holds 132");
    const char *size = "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[128,136]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", size), 136),
                   "heads.head.bias: shape (3) does not fit data_offsets [128,136]");
    const char *huge = "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                       "\"data_offsets\":[128,136]}";
    expect_refused(write_raw(path, small_json(json, "heads.head.bias", huge), 136), "does not fit");
    const char *twice =
        "{\"class_token\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
        "\"class_token\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}";
    expect_refused(write_raw(path, twice, 32), "two tensors named class_token");
}

// Writes the list `t` (values zero) to path.
static void write_list(const char *path, Tensors *t) {
    tensors_alloc(t);
    Error err;
    cr_assert(safetensors_write(path, t, NULL, &err), "%s", err.message);
    tensors_free(t);
}

Test(safetensors, refuses_another_shape_a_missing_and_an_extra_tensor) {
    char path[1024];
    scratch_path(path, "other.safetensors");
    Tensors t;
    float *p[5];
    tensors_init(&t); // conv_proj.weight (4,1,2,2) saved as (4,4)
    tensors_add(&t, &p[0], 1, (int[]){4}, "class_token");
    tensors_add(&t, &p[1], 2, (int[]){3, 4}, "encoder.pos_embedding");
    tensors_add(&t, &p[2], 2, (int[]){4, 4}, "conv_proj.weight");
    tensors_add(&t, &p[3], 1, (int[]){2}, "heads.head.bias");
    write_list(path, &t);
    expect_refused(path, "tensor conv_proj.weight has shape (4,4); the model's is (4,1,2,2)");
    tensors_init(&t); // no head
    tensors_add(&t, &p[0], 1, (int[]){4}, "class_token");
    tensors_add(&t, &p[1], 2, (int[]){3, 4}, "encoder.pos_embedding");
    tensors_add(&t, &p[2], 4, (int[]){4, 1, 2, 2}, "conv_proj.weight");
    write_list(path, &t);
    expect_refused(path, "no tensor heads.head.bias (the model has 4 tensors, the file 3)");
    char empty[1024];
    expect_refused(write_raw(empty, "{\"__metadata__\":{\"k\":\"v\"}}", 0),
                   "no tensor class_token (the model has 4 tensors, the file 0)");
    tensors_init(&t); // a head weight too
    tensors_add(&t, &p[0], 1, (int[]){4}, "class_token");
    tensors_add(&t, &p[1], 2, (int[]){3, 4}, "encoder.pos_embedding");
    tensors_add(&t, &p[2], 4, (int[]){4, 1, 2, 2}, "conv_proj.weight");
    tensors_add(&t, &p[3], 1, (int[]){2}, "heads.head.bias");
    tensors_add(&t, &p[4], 2, (int[]){2, 4}, "heads.head.weight");
    write_list(path, &t);
    expect_refused(path, "tensor heads.head.weight is not in the model");
}

// A header in another style: tensors out of order, names with escapes,
// shapes with and without leading 1s, the metadata last, spaces, tabs and
// newlines between tokens; the conv weight named conv_name (JSON text).
static const char *other_style_json(char out[1024], const char *conv_name) {
    snprintf(
        out, 1024,
        "{ \"heads.head.bias\" : {\"data_offsets\": [0, 8], \"shape\": [1, 1, 2], \"dtype\": "
        "\"F32\"},\n\t\"encoder\\u002epos_embedding\": {\"dtype\": \"F32\", \"shape\": [3, "
        "4], \"data_offsets\": [8, 56]},\r\n \"class_token\": {\"dtype\": \"F32\", \"shape\": "
        "[4], \"data_offsets\": [56, 72]}, \"%s\": {\"dtype\": \"F32\", \"shape\": [4, 1, 2, "
        "2], \"data_offsets\": [72, 136]}, \"__metadata__\": {\"k\": \"\\u00e9\\ud83d\\ude00\"}"
        " }",
        conv_name);
    return out;
}

Test(safetensors, reads_any_order_spacing_escapes_and_leading_ones) {
    char path[1024], json[1024];
    unsigned char data[136]; // float k has the four bytes k, k, k, k
    for (int i = 0; i < 136; i++) data[i] = (unsigned char)(i / 4);
    const char *wrong = other_style_json(json, "conv\\/proj.weight"); // "conv/proj.weight"
    write_file(path, padded_length(wrong), wrong, data, 136);
    expect_refused(path, "no tensor conv_proj.weight");
    const char *right = other_style_json(json, "conv_\\u0070roj.weight");
    write_file(path, padded_length(right), right, data, 136);
    Error err;
    cr_assert(safetensors_read(path, &other, &err), "%s", err.message);
    SafetensorsMeta meta;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    cr_assert_str_eq(safetensors_meta_get(&meta, "k"), "\xc3\xa9\xf0\x9f\x98\x80");
    const float *at[] = {ow.head_b, ow.pos, ow.class_token, ow.conv_w}; // file order
    int counts[] = {2, 12, 4, 16}, k = 0;
    for (int t = 0; t < 4; t++)
        for (int j = 0; j < counts[t]; j++, k++) {
            uint32_t bits, b = (uint32_t)k;
            memcpy(&bits, &at[t][j], sizeof bits);
            cr_assert_eq(bits, b | b << 8 | b << 16 | b << 24, "float %d of tensor %d", j, t);
        }
}

// ---- a checkpoint saved by torchvision --------------------------------------------

// The configuration from a checkpoint's metadata (torchvision's names).
static VitConfig config_from_meta(const char *path) {
    SafetensorsMeta meta;
    Error err;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    const char *keys[] = {"image_size", "patch_size", "in_channels", "hidden_dim",
                          "mlp_dim",    "num_layers", "num_heads",   "num_classes"};
    int v[8];
    for (int i = 0; i < 8; i++) {
        const char *value = safetensors_meta_get(&meta, keys[i]);
        cr_assert(value != NULL, "%s: no metadata %s", path, keys[i]);
        v[i] = atoi(value);
    }
    cr_assert_not_null(safetensors_meta_get(&meta, "image_mean"));
    cr_assert_not_null(safetensors_meta_get(&meta, "image_std"));
    return (VitConfig){.image_size = v[0],
                       .patch_size = v[1],
                       .in_channels = v[2],
                       .hidden_dim = v[3],
                       .mlp_dim = v[4],
                       .num_layers = v[5],
                       .num_heads = v[6],
                       .num_classes = v[7]};
}

Test(safetensors, torchvision_checkpoint_has_its_configuration_in_the_metadata) {
    VitConfig cfg = config_from_meta(TORCHVISION_FILE);
    VitConfig want = {28, 7, 1, 16, 32, 2, 2, 10};
    cr_assert_eq(memcmp(&cfg, &want, sizeof cfg), 0, "the metadata is not the fixture's model");
}

// Chapter 05's encoder and a hand-made head read the file by name (the head
// is Linear(C,K) on the class token) and give torch's logits.
Test(safetensors, torchvision_checkpoint_loads_into_the_encoder_by_name) {
    enum { B = 4 };
    VitConfig cfg = config_from_meta(TORCHVISION_FILE);
    int C = cfg.hidden_dim, K = cfg.num_classes, T = vit_tokens(&cfg), S = cfg.image_size;
    enc = (Encoder){.cfg = cfg, .B = B};
    enc.w.layers = xcalloc((size_t)cfg.num_layers, sizeof(BlockWeights));
    enc.a.layers = xcalloc((size_t)cfg.num_layers, sizeof(BlockActivations));
    encoder_params_add(&enc.params, &enc.w, &cfg);
    float *head_w, *head_b;
    tensors_add(&enc.params, &head_w, 2, (int[]){K, C}, "heads.head.weight");
    tensors_add(&enc.params, &head_b, 1, (int[]){K}, "heads.head.bias");
    encoder_acts_add(&enc.acts, &enc.a, &cfg, B);
    tensors_alloc(&enc.params);
    tensors_alloc(&enc.acts);
    Error err;
    cr_assert(safetensors_read(TORCHVISION_FILE, &enc.params, &err), "%s", err.message);
    fixture_load(&io, "06_torchvision_tiny_io.bin");
    encoder_run(&enc.a, &enc.w, &cfg, B, fixture_get(&io, "images", B, 1, S, S));
    float pooled[B * 16], logits[B * 10];
    cr_assert(C == 16 && K == 10);
    for (int b = 0; b < B; b++) memcpy(&pooled[b * C], &enc.a.out[b * T * C], C * sizeof(float));
    linear_forward(logits, pooled, head_w, head_b, B, C, K);
    expect_floats_close("logits", logits, fixture_get(&io, "logits", B, K), B * K, 1e-5, 1e-4);
}

// The whole model of chapter 06, built from the metadata, gives torch's logits.
Test(safetensors, torchvision_checkpoint_gives_torch_logits_in_vit) {
    enum { B = 4 };
    VitConfig cfg = config_from_meta(TORCHVISION_FILE);
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.0f, B);
    Error err;
    cr_assert(safetensors_read(TORCHVISION_FILE, &vit.params, &err), "%s", err.message);
    fixture_load(&io, "06_torchvision_tiny_io.bin");
    int S = cfg.image_size, K = cfg.num_classes;
    vit_forward(&vit, fixture_get(&io, "images", B, 1, S, S), NULL, B, 0.0f, false);
    expect_floats_close("logits", vit.ha.logits, fixture_get(&io, "logits", B, K), B * K, 1e-5,
                        1e-4);
}
