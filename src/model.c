// model.c — calling a model's functions through its kind, and checking that
// images fit it.
#include "model.h"

float model_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                    bool training) {
    return m->kind->forward(m, images, labels, B, smoothing, training);
}

void model_backward(Model *m, const int *labels, int B, float smoothing) {
    m->kind->backward(m, labels, B, smoothing);
}

bool model_takes(const Model *m, int rows, int cols, int channels, const char *what, Error *err) {
    if (rows != m->image_size || cols != m->image_size || channels != m->in_channels)
        return error_set(err, "%s: images of %dx%d with %d channel%s, the model takes %dx%d with %d",
                         what, rows, cols, channels, channels == 1 ? "" : "s", m->image_size,
                         m->image_size, m->in_channels);
    return true;
}
