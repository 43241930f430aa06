// fuzz/safetensors.c — the safetensors reader and the checks on its metadata,
// through checkpoint_open_from (the code checkpoint_open runs once the file is
// open) over the input's bytes in memory, with every model kind:
// safetensors_read_meta_from (the 8-byte length, the JSON header, the
// metadata, the layout), the "model" entry, the normalisation, the shape
// fields, the data size against the model's (before a model is built), then
// safetensors_read_from's per-tensor checks and the finite weights.
#include <stdint.h>
#include <stdlib.h>
#include "checkpoint.h"
#include "cnn.h"
#include "hybrid.h"
#include "vit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in;
    Error err;
    if (!input_open_memory(&in, data, size, "model.safetensors", &err)) abort();
    const ModelKind *const kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Model *m;
    float mean, std;
    if (checkpoint_open_from(&in, kinds, 3, 1, 0.0f, &m, &mean, &std, &err)) m->kind->close(m);
    input_close(&in);
    return 0;
}
