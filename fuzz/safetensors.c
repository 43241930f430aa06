// fuzz/safetensors.c — the safetensors reader and the checks on its metadata:
// safetensors_read_meta (header, JSON, layout), checkpoint_normalization, then
// checkpoint_open with every model kind (the "model" entry, the shape fields,
// the data size against the model's, safetensors_read's per-tensor checks, the
// finite weights).
#include <stdint.h>
#include "checkpoint.h"
#include "cnn.h"
#include "fuzz_file.h"
#include "hybrid.h"
#include "vit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("model.safetensors", data, size);
    SafetensorsMeta meta;
    Error err;
    if (!safetensors_read_meta(path, &meta, &err)) return 0;
    float mean, std;
    (void)checkpoint_normalization(path, &mean, &std, &err);
    const ModelKind *const kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Model *m;
    if (checkpoint_open(path, kinds, 3, 1, 0.0f, &m, &mean, &std, &err)) m->kind->close(m);
    return 0;
}
