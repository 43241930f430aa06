// vit_resize.c — a ViT rebuilt at another image size, its position embeddings
// interpolated.
#include "vit_resize.h"

#include <assert.h>
#include <string.h>
#include "pos_interpolate.h"

// region: vit-resize
bool vit_build_resized(Vit *out, const Vit *src, int image_size, int B, float dropout, Error *err) {
    VitConfig cfg = src->cfg;
    cfg.image_size = image_size;
    Error why;
    if (!vit_config_check(&cfg, &why) || !vit_sizes_check(&cfg, B, &why))
        return error_set(err, "a ViT for %dx%d images (patch %d): %s", image_size, image_size,
                         cfg.patch_size, why.message);
    vit_build(out, &cfg, &src->head, dropout, B);
    // the same list of parameters in the same order: only the positions' shape differs
    assert(out->params.count == src->params.count);
    int g = src->cfg.image_size / cfg.patch_size, n = image_size / cfg.patch_size;
    for (int i = 0; i < src->params.count; i++) {
        const TensorEntry *from = &src->params.entries[i], *to = &out->params.entries[i];
        assert(strcmp(from->name, to->name) == 0);
        if (*from->slot == src->w.pos) // encoder.pos_embedding (1+g*g,C) -> (1+n*n,C)
            pos_embedding_interpolate(out->w.pos, src->w.pos, g, n, cfg.hidden_dim);
        else
            memcpy(*to->slot, *from->slot, from->count * sizeof(float));
    }
    vit_set_gelu(out, vit_gelu(src));
    out->dropout_rng = src->dropout_rng;
    return true;
}
// endregion: vit-resize
