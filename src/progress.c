// progress.c — a progress bar redrawn in place on a terminal
// ("epoch 3/10 [=====>    ] 32000/60000  2950 img/s  0:09 left  loss 0.41"),
// and silence when the output is a pipe or a file.
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BAR = 30 };                      // characters inside the brackets
static const double REDRAW_EVERY = 0.1; // seconds between redraws

double progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_start(Progress *p, FILE *out, const char *label, long total) {
    *p = (Progress){.out = out, .terminal = isatty(fileno(out)) == 1, .total = total};
    snprintf(p->label, sizeof p->label, "%s", label);
    p->start = progress_now();
    p->last_draw = p->start;
}

// "[=====>    ]" for done of total.
static void draw_bar(char bar[BAR + 3], long done, long total) {
    int filled = total > 0 ? (int)((double)BAR * done / total) : BAR;
    bar[0] = '[';
    for (int i = 0; i < BAR; i++) bar[1 + i] = i < filled ? '=' : i == filled ? '>' : ' ';
    bar[BAR + 1] = ']';
    bar[BAR + 2] = '\0';
}

static void draw(Progress *p, double now, const char *extra) {
    double elapsed = now - p->start, rate = elapsed > 0 ? p->done / elapsed : 0;
    long left = rate > 0 ? (long)((p->total - p->done) / rate + 0.5) : 0;
    char bar[BAR + 3];
    draw_bar(bar, p->done, p->total);
    // \r back to the start of the line, \033[K clears what a longer line left
    fprintf(p->out, "\r%s %s %ld/%ld  %.0f img/s  %ld:%02ld left%s%s\033[K", p->label, bar, p->done,
            p->total, rate, left / 60, left % 60, extra ? "  " : "", extra ? extra : "");
    fflush(p->out);
    p->last_draw = now;
}

void progress_update(Progress *p, long done, const char *extra) {
    p->done += done;
    if (!p->terminal) return;
    double now = progress_now();
    if (now - p->last_draw >= REDRAW_EVERY || p->done >= p->total) draw(p, now, extra);
}

double progress_finish(Progress *p) {
    if (p->terminal) {
        fprintf(p->out, "\r\033[K");
        fflush(p->out);
    }
    return progress_now() - p->start;
}
