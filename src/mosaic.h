// mosaic.h — many small maps drawn as one gnuplot image: tiles of th x tw
// values laid out `columns` to a row with a one-value gap between them (the
// patch projection's filters, one tile each; a similarity matrix, one row per
// tile on the patch grid). The gaps are written as 0 and painted white in front
// of the image by the lines mosaic_gaps_script returns.
#ifndef MOSAIC_H
#define MOSAIC_H

#include "plot.h"

// Writes tiles (count,th,tw) into plot's .dat as one matrix of
// rows·(th+1)−1 lines of columns·(tw+1)−1 values (rows = ⌈count/columns⌉).
void plot_mosaic(Plot *plot, const float *tiles, int count, int columns, int th, int tw);

// gnuplot lines that paint that matrix's gaps white, in front of the image (a
// static buffer: valid until the next call).
const char *mosaic_gaps_script(int count, int columns, int th, int tw);

#endif
