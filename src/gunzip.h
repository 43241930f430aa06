// gunzip.h — a file's bytes, gunzipped on the way when it starts with gzip's
// magic (1f 8b), strictly: each member's CRC-32 and length (its trailer) are
// checked, a stream cut short is "truncated", and anything after the last
// member is refused. A file without the magic is read as it is. Only regular
// files are opened (files.h's input_open).
#ifndef GUNZIP_H
#define GUNZIP_H

#include <stdbool.h>
#include <stdio.h>
#include <zlib.h>
#include "error.h"

typedef struct {
    FILE *file;
    const char *path;  // for messages; the caller's string
    bool gzip;         // the file starts with 1f 8b
    bool member_ended; // the current member's trailer has been checked
    z_stream z;        // inflate's state, over in
    unsigned char *in; // (GUNZIP_CHUNK) compressed bytes read ahead
} Gunzip;

bool gunzip_open(Gunzip *g, const char *path, Error *err);
// Up to n bytes into buf: how many (0 only at the end of the data), or -1 with
// err set ("path: corrupt compressed data (incorrect data check)", ...).
long gunzip_read(Gunzip *g, void *buf, long n, Error *err);
void gunzip_close(Gunzip *g);

#endif
