// colormap.h — viridis, the perceptually uniform colormap (van der Walt and
// Smith, 2015): dark blue for low values through green to yellow for high ones,
// readable in grayscale print and by colour-blind viewers.
#ifndef COLORMAP_H
#define COLORMAP_H

typedef struct {
    unsigned char r, g, b;
} Rgb;

// t in [0, 1] (clamped) to a colour.
Rgb colormap_viridis(float t);

// The same stops as a gnuplot palette command, so plots and pictures agree:
// "set palette defined (0 '#440154', ...)".
const char *colormap_viridis_gnuplot(void);

#endif
