// mosaic.c — tiles of small maps as one gnuplot matrix, with white gaps.
#include "mosaic.h"

#include <stdbool.h>
#include <stdio.h>

void plot_mosaic(Plot *plot, const float *tiles, int count, int columns, int th, int tw) {
    int rows = (count + columns - 1) / columns;
    for (int y = 0; y < rows * (th + 1) - 1; y++) {
        for (int x = 0; x < columns * (tw + 1) - 1; x++) {
            int tile = (y / (th + 1)) * columns + x / (tw + 1), ty = y % (th + 1),
                tx = x % (tw + 1);
            bool gap = ty == th || tx == tw || tile >= count;
            plot_printf(plot, "%.4g ", gap ? 0.0f : tiles[((size_t)tile * th + ty) * tw + tx]);
        }
        plot_printf(plot, "\n");
    }
}

const char *mosaic_gaps_script(int count, int columns, int th, int tw) {
    static char script[1024];
    int rows = (count + columns - 1) / columns, last = count - (rows - 1) * columns;
    snprintf(
        script, sizeof script,
        "GAP = \"front fc rgb 'white' fillstyle solid noborder\"\n"
        "do for [k=1:%d] { set object rect from first k*%d-1.5, graph 0 to first k*%d-0.5, graph 1 @GAP }\n"
        "do for [k=1:%d] { set object rect from graph 0, first k*%d-1.5 to graph 1, first k*%d-0.5 @GAP }\n"
        "set object rect from first %d-0.5, first %d-0.5 to graph 1, graph 0 @GAP\n",
        columns - 1, tw + 1, tw + 1, rows - 1, th + 1, th + 1, last * (tw + 1),
        (rows - 1) * (th + 1));
    return script;
}
