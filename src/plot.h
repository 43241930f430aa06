// plot.h — figures through gnuplot. Every figure is kept as three files side by
// side: NAME.dat (the numbers), NAME.gp (a readable script a lecturer can
// restyle) and NAME.png (rendered by gnuplot's pngcairo terminal). Without
// gnuplot the .dat and .gp are still written, with a note on how to render.
#ifndef PLOT_H
#define PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "files.h"

typedef struct {
    char dir[512];     // "figures/ch01"
    char name[128];    // "tokens" -> tokens.dat, tokens.gp, tokens.png
    int width, height; // PNG size in pixels; 1280x800 unless changed before plot_render
    AtomicFile data;   // the .dat, open between plot_begin and plot_render
} Plot;

// Starts NAME.dat in dir (created if missing), with `description` as its
// first comment line. A dir with a control character (a newline would run
// the rest of the line as gnuplot commands) is refused.
bool plot_begin(Plot *plot, const char *dir, const char *name, const char *description, Error *err);
// Whether dir can hold figures' names: no control character (checked by
// plot_begin too; a program calls it before long work).
bool plot_dir_check(const char *dir, Error *err);
// Writes into the .dat, like printf.
void plot_printf(Plot *plot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Ends a data block: gnuplot addresses blocks as `index 0`, `index 1`, ...
void plot_end_block(Plot *plot);
// Finishes the .dat, writes NAME.gp (a header setting the terminal, the output
// and DATA = "NAME.dat", then `script`) and renders NAME.png: under a
// temporary name, renamed into place only if gnuplot exits 0 and the file is a
// whole PNG (its signature and IEND chunk).
bool plot_render(Plot *plot, const char *script, Error *err);
// Gives up on the figure; nothing is left behind.
void plot_abort(Plot *plot);

// A gnuplot script built piece by piece, for plot_render.
typedef struct {
    char text[24576];
    size_t length;
} PlotScript;
// Appends to the script, like printf. A script too long for its buffer is a
// bug in the program: it stops with a message.
void plot_script_add(PlotScript *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Whether gnuplot can be run (looked up once on PATH).
bool plot_have_gnuplot(void);

#endif
