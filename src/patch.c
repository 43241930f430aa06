// patch.c — cutting images into patches and putting them back.
#include "patch.h"

#include <assert.h>
#include <string.h>

bool patch_check(int H, int W, int P, Error *err) {
    if (P <= 0) return error_set(err, "patch size must be positive, got %d", P);
    if (P > H || P > W)
        return error_set(err, "patch size %d is larger than the %dx%d image", P, H, W);
    if (H % P != 0 || W % P != 0)
        return error_set(err, "patch size %d does not divide the %dx%d image into whole patches", P,
                         H, W);
    return true;
}

int patch_count(int H, int W, int P) {
    assert(patch_check(H, W, P, NULL));
    return (H / P) * (W / P);
}

// region: patchify
// Walks every patch row: row y of channel c of patch n is P pixels that lie
// side by side in the image (B,Cin,H,W) and side by side in the patch rows
// (B,N,Cin*P*P), so each is one memcpy, in whichever direction is asked.
static void copy_patch_rows(float *patches, float *images, int B, int Cin, int H, int W, int P,
                            bool into_patches) {
    assert(patch_check(H, W, P, NULL));
    int columns = W / P; // patches per row of the grid
    int N = patch_count(H, W, P);
    int D = Cin * P * P; // numbers per patch
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            int top = (n / columns) * P, left = (n % columns) * P;
            for (int c = 0; c < Cin; c++)
                for (int y = 0; y < P; y++) {
                    size_t patch_at = ((size_t)b * N + n) * D + (c * P + y) * P;
                    size_t image_at = (((size_t)b * Cin + c) * H + top + y) * W + left;
                    float *in_patch = patches + patch_at; // (P)
                    float *in_image = images + image_at;  // (P)
                    if (into_patches)
                        memcpy(in_patch, in_image, P * sizeof(float));
                    else
                        memcpy(in_image, in_patch, P * sizeof(float));
                }
        }
}

// images (B,Cin,H,W) -> patches (B,N,Cin*P*P), N = (H/P)*(W/P)
void patchify(float *patches, const float *images, int B, int Cin, int H, int W, int P) {
    copy_patch_rows(patches, (float *)images, B, Cin, H, W, P, true); // only reads images
}

// patches (B,N,Cin*P*P) -> images (B,Cin,H,W), the exact inverse
void unpatchify(float *images, const float *patches, int B, int Cin, int H, int W, int P) {
    copy_patch_rows((float *)patches, images, B, Cin, H, W, P, false); // only reads patches
}
// endregion: patchify
