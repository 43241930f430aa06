// train.c — the training loop (batches, shuffling, the step) and evaluation
// for any Model, and the optimizer's state beside a checkpoint for resuming.
#include "train.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "checkpoint.h"
#include "files.h"
#include "narrate.h"
#include "safetensors.h"

void train_set_threads(int n) {
    assert(n > 0);
    omp_set_num_threads(n);
}

int train_threads(void) {
    return omp_get_max_threads();
}

// ---- batches and the step ------------------------------------------------------

// region: batch
void batch_load(float *images, int *labels, const FashionMnist *data, const int *indices, int B,
                float mean, float std) {
    int HW = data->rows * data->cols;
    for (int b = 0; b < B; b++) {
        fashion_mnist_normalized(data, indices[b], mean, std, images + (size_t)b * HW);
        labels[b] = data->labels[indices[b]];
    }
}
// endregion: batch

CliOption train_augment_option(bool *augment) {
    return (CliOption){"augment", CLI_SWITCH,
                       augment,   "shift training images by up to 2 pixels and mirror half of them",
                       0,         0,
                       NULL};
}

CliOption train_shift_option(int *shift) {
    return (CliOption){
        "shift", CLI_INT,
        shift,   "shift training images by up to N pixels (mirrored too only with --augment)",
        0,       27,
        "N"};
}

int train_shift_pixels(bool augment, int shift) {
    return shift > 0 ? shift : augment ? 2 : 0;
}

// region: augment
void batch_augment(float *images, float *scratch, int B, int H, int W, int shift, bool mirror,
                   float background, Rng *rng) {
    for (int b = 0; b < B; b++) {
        float *x = images + (size_t)b * H * W; // (H,W)
        int dy = rng_int(rng, 2 * shift + 1) - shift, dx = rng_int(rng, 2 * shift + 1) - shift;
        bool flip = mirror && rng_int(rng, 2) == 1;
        memcpy(scratch, x, sizeof(float) * H * W);
        for (int y = 0; y < H; y++)
            for (int c = 0; c < W; c++) {
                int sy = y - dy, sx = (flip ? W - 1 - c : c) - dx; // where the pixel comes from
                bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
                x[y * W + c] = inside ? scratch[sy * W + sx] : background;
            }
    }
}
// endregion: augment

bool trainer_build(Trainer *t, Model *model, const FashionMnist *train, int count,
                   const TrainOptions *o, Error *err) {
    assert(count > 0 && count <= train->count && o->batch <= model->B && o->epochs > 0);
    const char *what = train->images_path[0] ? train->images_path : "the training images";
    if (!model_takes(model, train->rows, train->cols, 1, what, err)) return false;
    *t = (Trainer){.model = model, .o = *o, .data = train, .count = count};
    adamw_build(&t->opt, model->params, o->weight_decay);
    t->steps_per_epoch = (count + o->batch - 1) / o->batch;
    t->total_steps = t->steps_per_epoch * o->epochs;
    t->warmup_steps = (long)(o->warmup * (float)t->steps_per_epoch + 0.5f);
    if (t->warmup_steps > t->total_steps) t->warmup_steps = t->total_steps;
    t->order = xmalloc(sizeof(int) * count);
    t->images = xmalloc(sizeof(float) * o->batch * train->rows * train->cols);
    t->labels = xmalloc(sizeof(int) * o->batch);
    t->scratch = xmalloc(sizeof(float) * train->rows * train->cols);
    return true;
}

void trainer_free(Trainer *t) {
    adamw_free(&t->opt);
    free(t->order);
    free(t->images);
    free(t->labels);
    free(t->scratch);
    *t = (Trainer){0};
}

// region: step
float trainer_step(Trainer *t, int B) {
    Model *m = t->model;
    const TrainOptions *o = &t->o;
    float loss = model_forward(m, t->images, t->labels, B, o->label_smoothing, true);
    model_backward(m, t->labels, B, o->label_smoothing); // into m->grads
    t->grad_norm = clip_grad_norm(m->grads->memory, m->grads->total, o->clip);
    t->lr = lr_schedule(t->opt.step, t->warmup_steps, t->total_steps, o->lr);
    adamw_step(&t->opt, m->params->memory, m->grads->memory, t->lr);
    return loss;
}
// endregion: step

// How many rows of logits (B,K) have their largest value at the label.
static int count_correct(const float *logits, const int *labels, int B, int K) {
    int correct = 0;
    for (int b = 0; b < B; b++) correct += narrate_argmax(logits + (size_t)b * K, K) == labels[b];
    return correct;
}

// Each epoch's order comes from its own seed, so a resumed run replays it.
static uint64_t epoch_seed(int seed, int epoch) {
    return (uint64_t)seed * 1000003u + (uint64_t)epoch + 1u;
}

// region: epoch
EpochResult trainer_epoch(Trainer *t, Progress *progress) {
    const TrainOptions *o = &t->o;
    int K = t->model->num_classes;
    Rng rng;
    rng_seed(&rng, epoch_seed(o->seed, t->epoch));
    rng_permutation(&rng, t->order, t->count);
    double start = progress_now(), loss_sum = 0.0, correct = 0.0;
    for (long s = 0; s < t->steps_per_epoch; s++) {
        int first = (int)(s * o->batch);
        int B = t->count - first < o->batch ? t->count - first : o->batch;
        batch_load(t->images, t->labels, t->data, t->order + first, B, o->image_mean, o->image_std);
        if (o->shift > 0 || o->mirror) // a black pixel for the uncovered border
            batch_augment(t->images, t->scratch, B, t->data->rows, t->data->cols, o->shift,
                          o->mirror, -o->image_mean / o->image_std, &rng);
        loss_sum += (double)trainer_step(t, B) * B;
        Model *m = t->model;
        correct += m->kind->correct != NULL ? m->kind->correct(m, t->labels, B)
                                            : count_correct(m->logits, t->labels, B, K);
        if (progress != NULL) {
            char extra[32];
            snprintf(extra, sizeof extra, "loss %.3f", loss_sum / (first + B));
            progress_update(progress, B, extra);
        }
    }
    t->epoch++;
    double seconds = progress_now() - start;
    return (EpochResult){.loss = loss_sum / t->count,
                         .accuracy = correct / t->count,
                         .seconds = seconds,
                         .images_per_s = t->count / seconds};
}
// endregion: epoch

// region: evaluate
double evaluate(Model *model, const FashionMnist *data, int count, float mean, float std,
                int *confusion, float *logits) {
    int K = model->num_classes, maxB = model->B;
    assert(count > 0 && count <= data->count);
    assert(model_takes(model, data->rows, data->cols, 1, "data", NULL));
    float *images = xmalloc(sizeof(float) * maxB * data->rows * data->cols); // (B,1,H,W)
    int *labels = xmalloc(sizeof(int) * maxB), *indices = xmalloc(sizeof(int) * maxB);
    if (confusion != NULL) memset(confusion, 0, sizeof(int) * K * K);
    long correct = 0;
    for (int first = 0; first < count; first += maxB) {
        int B = count - first < maxB ? count - first : maxB;
        for (int b = 0; b < B; b++) indices[b] = first + b;
        batch_load(images, labels, data, indices, B, mean, std);
        model_forward(model, images, NULL, B, 0.0f, false);
        for (int b = 0; b < B; b++) {
            const float *row = model->logits + (size_t)b * K; // (K)
            int predicted = narrate_argmax(row, K);
            correct += predicted == labels[b];
            if (confusion != NULL) confusion[labels[b] * K + predicted]++;
            if (logits != NULL) memcpy(logits + (size_t)(first + b) * K, row, sizeof(float) * K);
        }
    }
    free(images);
    free(labels);
    free(indices);
    return (double)correct / count;
}
// endregion: evaluate

// region: predictions-csv
bool predictions_write(const char *path, const FashionMnist *test, const float *logits, int K,
                       Error *err) {
    AtomicFile af;
    if (!atomic_open(&af, path, err)) return false;
    fprintf(af.file, "index,label,predicted");
    for (int k = 0; k < K; k++) fprintf(af.file, ",logit_%d", k);
    fprintf(af.file, "\n");
    for (int i = 0; i < test->count; i++) {
        const float *row = logits + (size_t)i * K; // (K)
        fprintf(af.file, "%d,%d,%d", i, test->labels[i], narrate_argmax(row, K));
        for (int k = 0; k < K; k++) fprintf(af.file, ",%.6g", row[k]);
        fprintf(af.file, "\n");
    }
    return atomic_commit(&af, err);
}
// endregion: predictions-csv

// ---- the optimizer's state, for resuming -----------------------------------------

void trainer_state_path(char *out, size_t size, const char *checkpoint) {
    size_t n = strlen(checkpoint), suffix = strlen(".safetensors");
    if (n > suffix && strcmp(checkpoint + n - suffix, ".safetensors") == 0) n -= suffix;
    snprintf(out, size, "%.*s.opt.safetensors", (int)n, checkpoint);
}

// m and v as the tensors "adamw.m" and "adamw.v" over the optimizer's memory
// (one allocation, m then v); slots (2) must outlive the view. Free it with
// view_free (the memory is the optimizer's).
static Tensors optimizer_view(const AdamW *opt, float *slots[2]) {
    assert(opt->count <= INT_MAX && opt->v == opt->m + opt->count);
    int shape[] = {(int)opt->count};
    Tensors view;
    tensors_init(&view);
    tensors_add(&view, &slots[0], 1, shape, "adamw.m");
    tensors_add(&view, &slots[1], 1, shape, "adamw.v");
    view.memory = opt->m;
    slots[0] = opt->m;
    slots[1] = opt->v;
    return view;
}

static void view_free(Tensors *view) {
    view->memory = NULL; // the optimizer's, not the view's
    tensors_free(view);
}

static void meta_set_u64(SafetensorsMeta *meta, const char *key, uint64_t value) {
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, value);
    safetensors_meta_set(meta, key, text);
}

// The CRC-32 of the model's weights as a checkpoint stores them (little-endian
// float32): it ties the optimizer's file to the weights it was saved with.
static uint32_t weights_crc(const Model *m) {
    const float *x = m->params->memory;
    uLong crc = crc32(0L, Z_NULL, 0);
    unsigned char bytes[4096 * 4];
    for (size_t start = 0; start < m->params->total; start += 4096) {
        size_t chunk = m->params->total - start < 4096 ? m->params->total - start : 4096;
        for (size_t i = 0; i < chunk; i++) {
            uint32_t bits;
            memcpy(&bits, &x[start + i], sizeof bits);
            for (int b = 0; b < 4; b++) bytes[4 * i + b] = (unsigned char)(bits >> (8 * b));
        }
        crc = crc32(crc, bytes, (uInt)(4 * chunk));
    }
    return (uint32_t)crc;
}

// region: trainer-save
bool trainer_save(const Trainer *t, const char *path, Error *err) {
    if (!checkpoint_save(path, t->model, t->o.image_mean, t->o.image_std, err)) return false;
    SafetensorsMeta meta = {0};
    meta_set_u64(&meta, "weights_crc32", weights_crc(t->model));
    meta_set_u64(&meta, "step", (uint64_t)t->opt.step);
    meta_set_u64(&meta, "epoch", (uint64_t)t->epoch);
    meta_set_u64(&meta, "seed", (uint64_t)t->o.seed);
    meta_set_u64(&meta, "batch", (uint64_t)t->o.batch);
    meta_set_u64(&meta, "train_count", (uint64_t)t->count);
    meta_set_u64(&meta, "dropout_rng_state", t->model->dropout_rng->state);
    meta_set_u64(&meta, "dropout_rng_stream", t->model->dropout_rng->stream);
    char state[1024];
    trainer_state_path(state, sizeof state, path);
    float *slots[2];
    Tensors view = optimizer_view(&t->opt, slots);
    bool ok = safetensors_write(state, &view, &meta, err);
    view_free(&view);
    return ok;
}
// endregion: trainer-save

static bool meta_u64(const SafetensorsMeta *meta, const char *key, uint64_t *out, const char *path,
                     Error *err) {
    const char *text = safetensors_meta_get(meta, key);
    if (text == NULL) return error_set(err, "%s: no \"%s\" in the metadata", path, key);
    errno = 0;
    char *end;
    unsigned long long x = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-')
        return error_set(err, "%s: metadata \"%s\" is \"%s\", expected a whole number", path, key,
                         text);
    *out = x;
    return true;
}

// The counters of the state file, checked against this trainer.
static bool resume_counters(Trainer *t, const SafetensorsMeta *meta, const char *state,
                            Error *err) {
    long long step, epoch, seed, batch, count;
    if (!meta_long(meta, "step", 0, LLONG_MAX, &step, state, err) ||
        !meta_long(meta, "epoch", 0, INT_MAX, &epoch, state, err) ||
        !meta_long(meta, "seed", 0, INT_MAX, &seed, state, err) ||
        !meta_long(meta, "batch", 1, INT_MAX, &batch, state, err) ||
        !meta_long(meta, "train_count", 1, INT_MAX, &count, state, err))
        return false;
    if (batch != t->o.batch || count != t->count)
        return error_set(err, "%s: was trained with batches of %lld on %lld images, not %d on %d",
                         state, batch, count, t->o.batch, t->count);
    if (step != epoch * t->steps_per_epoch)
        return error_set(err, "%s: step %lld does not fit epoch %lld", state, step, epoch);
    if (epoch > t->o.epochs)
        return error_set(err, "%s: already %lld epochs in, more than --epochs %d", state, epoch,
                         t->o.epochs);
    t->opt.step = (long)step;
    t->epoch = (int)epoch;
    t->o.seed = (int)seed; // the epochs to come shuffle as the first run would have
    return true;
}

// Whether the state file was saved with the weights just loaded from path: a
// save killed between the two files leaves weights and state of different steps.
static bool same_save(const Model *m, const SafetensorsMeta *meta, const char *state,
                      const char *path, Error *err) {
    uint64_t saved;
    if (!meta_u64(meta, "weights_crc32", &saved, state, err)) return false;
    uint32_t loaded = weights_crc(m);
    if (saved != loaded)
        return error_set(err,
                         "%s: saved with other weights than %s's (CRC-32 %08" PRIx64
                         ", not %08" PRIx32
                         "): the two files are from different steps (was a save interrupted?)",
                         state, path, saved, loaded);
    return true;
}

// Adam's moments read from state: m finite, v finite and not negative (a
// second moment is a mean of squares; sqrt of a negative one is NaN).
static bool moments_sane(const AdamW *opt, const char *state, Error *err) {
    for (size_t i = 0; i < opt->count; i++) {
        if (!isfinite(opt->m[i]))
            return error_set(err, "%s: tensor adamw.m: element %zu is %g; moments must be finite",
                             state, i, opt->m[i]);
        if (!isfinite(opt->v[i]) || opt->v[i] < 0.0f)
            return error_set(err,
                             "%s: tensor adamw.v: element %zu is %g; second moments must be "
                             "finite and not negative",
                             state, i, opt->v[i]);
    }
    return true;
}

// region: trainer-resume
bool trainer_resume(Trainer *t, const char *path, Error *err) {
    char state[1024];
    trainer_state_path(state, sizeof state, path);
    SafetensorsMeta meta;
    Rng dropout;
    if (!checkpoint_load(path, t->model, err) || !safetensors_read_meta(state, &meta, err) ||
        !same_save(t->model, &meta, state, path, err) ||
        !meta_u64(&meta, "dropout_rng_state", &dropout.state, state, err) ||
        !meta_u64(&meta, "dropout_rng_stream", &dropout.stream, state, err) ||
        !resume_counters(t, &meta, state, err))
        return false;
    float *slots[2];
    Tensors view = optimizer_view(&t->opt, slots);
    bool ok = safetensors_read(state, &view, err) && moments_sane(&t->opt, state, err);
    view_free(&view);
    *t->model->dropout_rng = dropout;
    return ok;
}
// endregion: trainer-resume
