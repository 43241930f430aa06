// checkpoint.c — saving any Model with its kind, shape and normalisation in
// the metadata, and loading it back: into a model of the same shape, or into
// a new one built from the file alone.
#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// region: checkpoint-meta
// prefix + name into key (size n).
static const char *meta_key(char *key, size_t n, const char *prefix, const ConfigField *f) {
    snprintf(key, n, "%s%s", prefix, f->name);
    return key;
}

void config_to_meta(SafetensorsMeta *meta, const char *prefix, const void *cfg,
                    const ConfigField *fields, int count) {
    char text[16], key[64];
    for (int i = 0; i < count; i++) {
        snprintf(text, sizeof text, "%d", config_get(cfg, &fields[i]));
        safetensors_meta_set(meta, meta_key(key, sizeof key, prefix, &fields[i]), text);
    }
}

bool checkpoint_save(const char *path, const Model *m, float mean, float std, Error *err) {
    SafetensorsMeta meta = {0};
    char text[32];
    safetensors_meta_set(&meta, "format", "pt");
    safetensors_meta_set(&meta, "model", m->kind->name);
    m->kind->describe(m, &meta);
    snprintf(text, sizeof text, "%.7g", mean);
    safetensors_meta_set(&meta, "image_mean", text);
    snprintf(text, sizeof text, "%.7g", std);
    safetensors_meta_set(&meta, "image_std", text);
    return safetensors_write(path, m->params, &meta, err); // PyTorch's names and shapes
}
// endregion: checkpoint-meta

bool meta_long(const SafetensorsMeta *meta, const char *key, long long lo, long long hi,
               long long *out, const char *path, Error *err) {
    const char *text = safetensors_meta_get(meta, key);
    if (text == NULL) return error_set(err, "%s: no \"%s\" in the metadata", path, key);
    errno = 0;
    char *end;
    long long x = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || x < lo || x > hi)
        return error_set(err,
                         "%s: metadata \"%s\" is \"%s\", expected a whole number in %lld..%lld",
                         path, key, text, lo, hi);
    *out = x;
    return true;
}

// region: checkpoint-config
bool config_from_meta(void *cfg, const char *prefix, const ConfigField *fields, int count,
                      const SafetensorsMeta *meta, const char *path, Error *err) {
    char key[64];
    for (int i = 0; i < count; i++) {
        long long x;
        if (!meta_long(meta, meta_key(key, sizeof key, prefix, &fields[i]), fields[i].min,
                       fields[i].max, &x, path, err))
            return false;
        config_set(cfg, &fields[i], (int)x);
    }
    return true;
}
// endregion: checkpoint-config

bool checkpoint_fits_data(const SafetensorsMeta *meta, const char *path, const char *what,
                          long long params, Error *err) {
    if (meta->data_bytes == 0 || (unsigned long long)params * sizeof(float) == meta->data_bytes)
        return true;
    return error_set(err,
                     "%s: the metadata describes a %s of %lld parameters (%lld bytes), but the "
                     "file holds %llu bytes of tensor data",
                     path, what, params, params * (long long)sizeof(float), meta->data_bytes);
}

static bool meta_float(const SafetensorsMeta *meta, const char *key, float *out, const char *path,
                       Error *err) {
    const char *text = safetensors_meta_get(meta, key);
    if (text == NULL) return error_set(err, "%s: no \"%s\" in the metadata", path, key);
    errno = 0;
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !(x > -1e6 && x < 1e6))
        return error_set(err, "%s: metadata \"%s\" is \"%s\", expected a number", path, key, text);
    *out = (float)x;
    return true;
}

static bool meta_normalization(const SafetensorsMeta *meta, const char *path, float *mean,
                               float *std, Error *err) {
    if (!meta_float(meta, "image_mean", mean, path, err) ||
        !meta_float(meta, "image_std", std, path, err))
        return false;
    if (!(*std >= CHECKPOINT_MIN_STD))
        return error_set(err, "%s: metadata \"image_std\" must be at least %g, got %g", path,
                         CHECKPOINT_MIN_STD, *std);
    return true;
}

bool checkpoint_normalization(const char *path, float *mean, float *std, Error *err) {
    SafetensorsMeta meta;
    return safetensors_read_meta(path, &meta, err) &&
           meta_normalization(&meta, path, mean, std, err);
}

// region: channel-normalization
// The numbers of meta's key into out (Cin): one, repeated, or Cin separated by commas.
static bool meta_floats(const SafetensorsMeta *meta, const char *key, int Cin, float *out,
                        const char *path, Error *err) {
    const char *text = safetensors_meta_get(meta, key);
    if (text == NULL) return error_set(err, "%s: no \"%s\" in the metadata", path, key);
    int n = 0;
    for (const char *at = text;; n++) {
        errno = 0;
        char *end;
        double x = strtod(at, &end);
        bool number = end != at && errno == 0 && x > -1e6 && x < 1e6;
        if (!number || n == Cin || (*end != ',' && *end != '\0'))
            return error_set(err,
                             "%s: metadata \"%s\" is \"%s\", expected one number or %d "
                             "separated by commas",
                             path, key, text, Cin);
        out[n] = (float)x;
        if (*end == '\0') break;
        at = end + 1;
    }
    if (n + 1 != 1 && n + 1 != Cin)
        return error_set(err, "%s: metadata \"%s\" holds %d numbers, expected 1 or %d", path, key,
                         n + 1, Cin);
    for (int c = 1; n == 0 && c < Cin; c++) out[c] = out[0]; // one number for every channel
    return true;
}

bool checkpoint_channel_normalization(const SafetensorsMeta *meta, const char *path, int Cin,
                                      float *mean, float *std, Error *err) {
    if (!meta_floats(meta, "image_mean", Cin, mean, path, err) ||
        !meta_floats(meta, "image_std", Cin, std, path, err))
        return false;
    for (int c = 0; c < Cin; c++)
        if (!(std[c] >= CHECKPOINT_MIN_STD))
            return error_set(err, "%s: metadata \"image_std\" must be at least %g, got %g", path,
                             CHECKPOINT_MIN_STD, std[c]);
    return true;
}
// endregion: channel-normalization

// Every weight of t (read from path) is a finite number: a NaN or an infinity
// would only turn every output into NaN.
static bool weights_finite(const Tensors *t, const char *path, Error *err) {
    for (int i = 0; i < t->count; i++) {
        const TensorEntry *e = &t->entries[i];
        const float *x = t->memory + e->offset; // (e->count)
        for (size_t k = 0; k < e->count; k++)
            if (!isfinite(x[k]))
                return error_set(err, "%s: tensor %s: element %zu is %g; weights must be finite",
                                 path, e->name, k, x[k]);
    }
    return true;
}

bool checkpoint_load(const char *path, Model *m, Error *err) {
    SafetensorsMeta meta;
    if (!safetensors_read_meta(path, &meta, err)) return false;
    const char *kind = safetensors_meta_get(&meta, "model");
    if (kind != NULL && strcmp(kind, m->kind->name) != 0)
        return error_set(err, "%s: holds a model of kind \"%s\", not \"%s\"", path, kind,
                         m->kind->name);
    return m->kind->fits(m, &meta, path, err) && safetensors_read(path, m->params, err) &&
           weights_finite(m->params, path, err);
}

// The kind named by meta's "model" entry (kinds[0] when there is none).
static const ModelKind *find_kind(const SafetensorsMeta *meta, const ModelKind *const *kinds,
                                  int count, const char *path, Error *err) {
    const char *name = safetensors_meta_get(meta, "model");
    if (name == NULL) return kinds[0];
    for (int i = 0; i < count; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    error_set(err, "%s: holds a model of kind \"%s\", which this program does not know", path,
              name);
    return NULL;
}

// region: checkpoint-open
bool checkpoint_open(const char *path, const ModelKind *const *kinds, int kind_count, int B,
                     float dropout, Model **out, float *mean, float *std, Error *err) {
    Input in;
    if (!input_open_file(&in, path, err)) return false;
    bool ok = checkpoint_open_from(&in, kinds, kind_count, B, dropout, out, mean, std, err);
    input_close(&in);
    return ok;
}

// The metadata first: the kind, the normalisation, then the kind's open checks
// the shape and that its parameters take exactly the file's bytes of data
// before it builds anything; then the weights.
bool checkpoint_open_from(Input *in, const ModelKind *const *kinds, int kind_count, int B,
                          float dropout, Model **out, float *mean, float *std, Error *err) {
    const char *path = in->name;
    SafetensorsMeta meta;
    if (!safetensors_read_meta_from(in, &meta, err)) return false;
    const ModelKind *kind = find_kind(&meta, kinds, kind_count, path, err);
    if (kind == NULL || !meta_normalization(&meta, path, mean, std, err)) return false;
    Model *m = kind->open(&meta, path, B, dropout, err);
    if (m == NULL) return false;
    if (!safetensors_read_from(in, m->params, err) || !weights_finite(m->params, path, err)) {
        kind->close(m);
        return false;
    }
    *out = m;
    return true;
}
// endregion: checkpoint-open

void checkpoint_require(const char *program, const char *path, const char *make_command) {
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT) return; // the loader reports other problems
    fprintf(stderr, "%s: %s not found: `%s` makes it\n", program, path, make_command);
    exit(1);
}
