// fuzz/image.c — the image decoder (image.h's image_decode, the in-memory half
// of image_read): the signature, the PNG or JPEG header, the size check before
// decoding, then the decode, as gray and as RGB. libpng and libjpeg-turbo are
// Debian's shared libraries, not instrumented: libFuzzer's coverage and the
// sanitizers see image.c and what it does with their results (the buffers it
// hands them, the pixels they fill), not their insides, which OSS-Fuzz fuzzes.
#include <stdint.h>
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int channels = 1; channels <= 3; channels += 2) {
        Image img;
        Error err;
        if (image_decode(data, size, "picture", channels, &img, &err)) image_free(&img);
    }
    return 0;
}
