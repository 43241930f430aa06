// fuzz/image.c — the image loader (image.h's image_read: PNG or JPEG through
// stb_image, sizes checked before decoding), as gray and as RGB. stb_image's
// decoder is compiled in here, instrumented, so libFuzzer sees its branches
// (the program's own definitions are used before libstb's).
#include <stdint.h>
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Weverything"
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#pragma clang diagnostic pop
#include "fuzz_file.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("picture", data, size);
    for (int channels = 1; channels <= 3; channels += 2) {
        Image img;
        Error err;
        if (image_read(path, channels, &img, &err)) image_free(&img);
    }
    return 0;
}
