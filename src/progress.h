// progress.h — progress for long work. On a terminal: one line redrawn in
// place with a bar, the rate and the time left. Piped: nothing until the end
// of a pass, so logs stay quiet and parseable.
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    FILE *out;
    bool terminal;      // redraw in place
    long total, done;   // units of work (images)
    double start;       // seconds, monotonic
    double last_draw;
    char label[32];
} Progress;

double progress_now(void);   // monotonic seconds
void progress_start(Progress *p, FILE *out, const char *label, long total);
// Adds done units; `extra` (may be NULL) is appended to the line, e.g. "loss 0.41".
void progress_update(Progress *p, long done, const char *extra);
// Clears the bar on a terminal; returns elapsed seconds.
double progress_finish(Progress *p);

#endif
