// colormap.c — viridis as 11 stops of matplotlib's table (t = 0, 0.1, ..., 1),
// interpolated linearly, and the same stops as a gnuplot palette.
#include "colormap.h"

#include <stdio.h>

#define STOPS 11

static const unsigned int viridis_hex[STOPS] = {
    // 0xRRGGBB
    0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
    0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
};

static unsigned char channel(unsigned int hex, int shift) {
    return (unsigned char)((hex >> shift) & 0xff);
}

static unsigned char lerp(unsigned char a, unsigned char b, float f) {
    return (unsigned char)(a + (b - a) * f + 0.5f);
}

Rgb colormap_viridis(float t) {
    if (!(t > 0.0f)) t = 0.0f; // NaN goes to the low end too
    if (t > 1.0f) t = 1.0f;
    float pos = t * (STOPS - 1);
    int i = (int)pos;
    if (i > STOPS - 2) i = STOPS - 2;
    float f = pos - (float)i;
    unsigned int a = viridis_hex[i], b = viridis_hex[i + 1];
    return (Rgb){lerp(channel(a, 16), channel(b, 16), f), lerp(channel(a, 8), channel(b, 8), f),
                 lerp(channel(a, 0), channel(b, 0), f)};
}

const char *colormap_viridis_gnuplot(void) {
    static char command[256]; // built once from the table
    if (command[0] != '\0') return command;
    int n = snprintf(command, sizeof command, "set palette defined (");
    for (int i = 0; i < STOPS; i++)
        n += snprintf(command + n, sizeof command - (size_t)n, "%s%g '#%06x'", i > 0 ? ", " : "",
                      i / (double)(STOPS - 1), viridis_hex[i]);
    snprintf(command + n, sizeof command - (size_t)n, ")");
    return command;
}
