// plot.c — figures as NAME.dat + NAME.gp + NAME.png: the numbers and a gnuplot
// script are written atomically, then gnuplot is run in the figure's directory
// (fork and exec, no shell) to render the PNG under a temporary name.
#include "plot.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// "DIR/NAME" + suffix; always fits, as dir < 512 and name < 128 bytes.
static void figure_path(char out[1024], const Plot *plot, const char *suffix) {
    snprintf(out, 1024, "%s/%s%s", plot->dir, plot->name, suffix);
}

// dir with each control character written as \xHH, for a one-line message.
static const char *printable(char out[1024], const char *dir) {
    size_t at = 0;
    for (const unsigned char *c = (const unsigned char *)dir; *c != '\0' && at + 5 < 1024; c++)
        at += (size_t)snprintf(out + at, 1024 - at, *c < 0x20 || *c == 0x7f ? "\\x%02x" : "%c", *c);
    out[at] = '\0';
    return out;
}

bool plot_dir_check(const char *dir, Error *err) {
    char shown[1024];
    for (const unsigned char *c = (const unsigned char *)dir; *c != '\0'; c++)
        if (*c < 0x20 || *c == 0x7f) // a newline would end the .gp's comment and run the rest
            return error_set(err, "%s: a figure directory with a control character is refused",
                             printable(shown, dir));
    return true;
}

bool plot_begin(Plot *plot, const char *dir, const char *name, const char *description,
                Error *err) {
    // the name goes inside gnuplot strings and file names
    assert(name[0] != '\0' && strlen(name) < sizeof plot->name);
    assert(strpbrk(name, "/'\"\\") == NULL);
    *plot = (Plot){.width = 1280, .height = 800};
    if (strlen(dir) >= sizeof plot->dir) return error_set(err, "%s: directory path too long", dir);
    if (!plot_dir_check(dir, err)) return false;
    strcpy(plot->dir, dir);
    strcpy(plot->name, name);
    char path[1024];
    figure_path(path, plot, ".dat");
    if (!make_dirs(dir, err) || !atomic_open(&plot->data, path, err)) return false;
    fprintf(plot->data.file, "# %s\n", description);
    return true;
}

void plot_printf(Plot *plot, const char *fmt, ...) {
    assert(plot->data.file != NULL);
    va_list args;
    va_start(args, fmt);
    vfprintf(plot->data.file, fmt, args);
    va_end(args);
}

void plot_end_block(Plot *plot) {
    plot_printf(plot, "\n\n");
}

void plot_abort(Plot *plot) {
    atomic_abort(&plot->data);
}

static bool write_script(const Plot *plot, const char *script, Error *err) {
    char path[1024];
    AtomicFile gp;
    figure_path(path, plot, ".gp");
    if (!atomic_open(&gp, path, err)) return false;
    const char *d = plot->dir, *n = plot->name;
    fprintf(gp.file,
            "# %s.gp: gnuplot script for %s.png, written by a ViT-in-C chapter program\n"
            "# (src/plot.c); the numbers are in %s.dat. To re-render after editing:\n"
            "#   cd %s && gnuplot %s.gp\n\n"
            "if (!exists(\"outfile\")) outfile = \"%s.png\"\n"
            "set terminal pngcairo size %d,%d enhanced font \"DejaVu Sans,20\" linewidth 2\n"
            "set output outfile\n"
            "DATA = \"%s.dat\"\n\n",
            n, n, n, d, n, n, plot->width, plot->height, n);
    size_t len = strlen(script);
    fprintf(gp.file, "%s%s", script, len > 0 && script[len - 1] == '\n' ? "" : "\n");
    return atomic_commit(&gp, err);
}

// Runs `gnuplot -e "outfile='OUTFILE'" NAME.gp` in DIR; returns its wait status.
static int run_gnuplot(const Plot *plot, const char *outfile) {
    char define[1200], script[160];
    snprintf(define, sizeof define, "outfile='%s'", outfile);
    snprintf(script, sizeof script, "%s.gp", plot->name);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (chdir(plot->dir) != 0) {
            fprintf(stderr, "%s: cannot enter: %s\n", plot->dir, strerror(errno));
            _exit(126);
        }
        execlp("gnuplot", "gnuplot", "-e", define, script, (char *)NULL);
        fprintf(stderr, "gnuplot: cannot run: %s\n", strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return status;
}

// Whether gnuplot (its wait status, or -1 with errno `saved`) ran and exited 0.
static bool gnuplot_succeeded(int status, int saved, const char *gp, Error *err) {
    if (status == -1) return error_set(err, "%s: cannot run gnuplot: %s", gp, strerror(saved));
    if (WIFSIGNALED(status))
        return error_set(err, "%s: gnuplot was killed by signal %d", gp, WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return error_set(err, "%s: gnuplot failed (exit status %d)", gp, WEXITSTATUS(status));
    return true;
}

// Whether gnuplot's file at temp is a whole PNG: its signature first and the
// IEND chunk last. gnuplot exits 0 even when the write failed (a full disk).
static bool png_complete(const char *temp, const char *png, const char *gp, Error *err) {
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    FILE *f = fopen(temp, "rb");
    if (f == NULL) return error_set(err, "%s: gnuplot wrote no %s: %s", gp, png, strerror(errno));
    unsigned char head[8], tail[12];
    bool ok = fread(head, 1, 8, f) == 8 && memcmp(head, signature, 8) == 0 &&
              fseek(f, -12, SEEK_END) == 0 && fread(tail, 1, 12, f) == 12 &&
              memcmp(tail, iend, 12) == 0;
    fclose(f);
    return ok || error_set(err,
                           "%s: gnuplot exited 0 but its %s is not a whole PNG (no signature or "
                           "no IEND chunk at the end: was the disk full?)",
                           gp, png);
}

// Renders NAME.png under a temporary name, checks it, and renames it into place.
static bool render(const Plot *plot, Error *err) {
    char gp[1024], png[1024], temp[1100];
    figure_path(gp, plot, ".gp");
    figure_path(png, plot, ".png");
    snprintf(temp, sizeof temp, "%s.tmp.%ld", png, (long)getpid());
    int slot = temp_track(temp);
    int status = run_gnuplot(plot, strrchr(temp, '/') + 1);
    bool ok = gnuplot_succeeded(status, errno, gp, err) && png_complete(temp, png, gp, err);
    if (ok && rename(temp, png) != 0)
        ok = error_set(err, "%s: cannot rename into place: %s", png, strerror(errno));
    if (!ok) remove(temp);
    temp_forget(slot);
    return ok;
}

bool plot_render(Plot *plot, const char *script, Error *err) {
    if (!atomic_commit(&plot->data, err) || !write_script(plot, script, err)) return false;
    if (plot_have_gnuplot()) return render(plot, err);
    fprintf(stderr,
            "note: gnuplot not found on PATH; wrote %s/%s.dat and %s/%s.gp; "
            "render with: cd %s && gnuplot %s.gp\n",
            plot->dir, plot->name, plot->dir, plot->name, plot->dir, plot->name);
    return true;
}

// Whether PATH holds an executable regular file named gnuplot.
static bool find_gnuplot(void) {
    const char *entry = getenv("PATH");
    while (entry != NULL) {
        size_t len = strcspn(entry, ":");
        char candidate[4096];
        int n = snprintf(candidate, sizeof candidate, "%.*s%sgnuplot", (int)len, entry,
                         len == 0 ? "" : "/"); // an empty entry means "."
        struct stat st;
        if (n > 0 && (size_t)n < sizeof candidate && stat(candidate, &st) == 0 &&
            S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
            return true;
        entry = entry[len] == ':' ? entry + len + 1 : NULL;
    }
    return false;
}

bool plot_have_gnuplot(void) {
    static int cached = -1; // -1 until PATH has been searched
    if (cached < 0) cached = find_gnuplot();
    return cached == 1;
}

void plot_script_add(PlotScript *s, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(s->text + s->length, sizeof s->text - s->length, fmt, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof s->text - s->length) {
        fprintf(stderr, "internal error: a figure's gnuplot script is longer than %zu bytes\n",
                sizeof s->text);
        abort();
    }
    s->length += (size_t)n;
}
