// test_plot.c — a figure is NAME.dat + NAME.gp + NAME.png; without gnuplot the
// first two are still written; an abandoned figure leaves nothing.
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "image.h"
#include "plot.h"
#include "scratch.h"

TestSuite(plot, .init = scratch_setup, .fini = scratch_teardown);

static const char *script = "plot DATA index 0 using 1:2 with lines title 'squares', \\\n"
                            "     DATA index 1 using 1:2 with points title 'cubes'\n";

// Writes a two-block figure "powers" into dir.
static void make_figure(const char *dir, bool *rendered, Error *err) {
    Plot plot;
    cr_assert(plot_begin(&plot, dir, "powers", "x and x^2, then x and x^3", err), "%s",
              err->message);
    for (int x = 0; x < 5; x++) plot_printf(&plot, "%d %d\n", x, x * x);
    plot_end_block(&plot);
    for (int x = 0; x < 5; x++) plot_printf(&plot, "%d %d\n", x, x * x * x);
    *rendered = plot_render(&plot, script, err);
}

static char *figure_file(const char *dir, const char *suffix, long *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/powers%s", dir, suffix);
    cr_assert(file_exists(path), "%s is missing", path);
    return read_whole_file(path, size);
}

static void expect_dat_and_gp(const char *dir) {
    char *dat = figure_file(dir, ".dat", NULL);
    cr_assert(dat[0] == '#', "the .dat should open with a comment: \"%s\"", dat);
    expect_mentions(dat, "x and x^2, then x and x^3");
    expect_mentions(dat, "4 16\n");
    expect_mentions(dat, "4 64\n");
    expect_mentions(dat, "4 16\n\n\n0 0\n"); // two blank lines separate gnuplot's blocks
    free(dat);
    char *gp = figure_file(dir, ".gp", NULL);
    expect_mentions(gp, "DATA = \"powers.dat\"");
    expect_mentions(gp, script);
    expect_mentions(gp, "pngcairo");
    cr_assert(strstr(gp, "DATA = ") < strstr(gp, script), "the script must come after DATA is set");
    free(gp);
}

Test(plot, render_writes_dat_gp_and_png) {
    cr_assert(plot_have_gnuplot(), "gnuplot is not installed (tools/deps.sh installs gnuplot-nox)");
    bool rendered;
    Error err;
    make_figure(scratch_dir, &rendered, &err);
    cr_assert(rendered, "%s", err.message);
    expect_dat_and_gp(scratch_dir);
    long size;
    char *png = figure_file(scratch_dir, ".png", &size);
    cr_assert(size > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "powers.png is not a PNG");
    free(png);
    cr_assert_eq(dir_count(scratch_dir, NULL), 3, "only powers.dat, .gp and .png should be left");
}

Test(plot, the_png_has_the_default_size_or_the_asked_one) {
    cr_assert(plot_have_gnuplot(), "gnuplot is not installed");
    Error err;
    Plot plot;
    cr_assert(plot_begin(&plot, scratch_dir, "sized", "a line", &err), "%s", err.message);
    cr_assert(plot.width == 1280 && plot.height == 800, "default %dx%d, want 1280x800", plot.width,
              plot.height);
    plot_printf(&plot, "0 0\n1 1\n");
    plot.width = 640;
    plot.height = 480;
    cr_assert(plot_render(&plot, "plot DATA with lines\n", &err), "%s", err.message);
    char path[1024];
    Image img;
    cr_assert(image_read(scratch_path(path, "sized.png"), 3, &img, &err), "%s", err.message);
    cr_assert(img.width == 640 && img.height == 480, "sized.png is %dx%d, want 640x480", img.width,
              img.height);
    image_free(&img);
}

Test(plot, begin_creates_the_directory) {
    char dir[1024];
    scratch_path(dir, "figures/ch01");
    bool rendered;
    Error err;
    make_figure(dir, &rendered, &err);
    cr_assert(rendered, "%s", err.message);
    expect_dat_and_gp(dir);
}

Test(plot, without_gnuplot_dat_and_gp_are_still_written) {
    cr_redirect_stderr(); // the note on how to render
    char empty[1024];
    scratch_path(empty, "empty-bin");
    cr_assert(make_dirs(empty, NULL));
    setenv("PATH", empty, 1);
    cr_assert_not(plot_have_gnuplot(), "gnuplot found on PATH=%s", empty);
    char dir[1024];
    scratch_path(dir, "out");
    bool rendered;
    Error err;
    make_figure(dir, &rendered, &err);
    cr_assert(rendered, "a missing gnuplot is not an error: %s", err.message);
    expect_dat_and_gp(dir);
    cr_assert_eq(dir_count(dir, NULL), 2, "only powers.dat and powers.gp should be there");
}

Test(plot, a_script_gnuplot_rejects_fails_with_the_gp_named_and_no_png) {
    cr_assert(plot_have_gnuplot(), "gnuplot is not installed");
    cr_redirect_stderr(); // gnuplot's own complaint
    Plot plot;
    Error err = {{0}};
    cr_assert(plot_begin(&plot, scratch_dir, "broken", "nothing", &err), "%s", err.message);
    plot_printf(&plot, "0 0\n");
    cr_assert_not(plot_render(&plot, "this is not gnuplot\n", &err));
    expect_mentions(err.message, "broken.gp");
    char path[1024];
    cr_assert_not(file_exists(scratch_path(path, "broken.png")), "a PNG was left");
    cr_assert_eq(dir_count(scratch_dir, ".tmp"), 0, "a temporary was left");
}

Test(plot, abort_leaves_nothing) {
    Plot plot;
    Error err;
    cr_assert(plot_begin(&plot, scratch_dir, "gone", "never finished", &err), "%s", err.message);
    plot_printf(&plot, "1 2\n");
    plot_abort(&plot);
    cr_assert_eq(dir_count(scratch_dir, NULL), 0, "plot_abort left files behind");
}

Test(plot, begin_in_an_unwritable_place_fails_with_the_path) {
    char file[1024], dir[1024];
    scratch_path(file, "a-file");
    write_whole_file(file, "x", 1);
    scratch_path(dir, "a-file/figures"); // a directory inside a regular file
    Plot plot;
    Error err = {{0}};
    cr_assert_not(plot_begin(&plot, dir, "x", "y", &err));
    expect_mentions(err.message, file);
}
