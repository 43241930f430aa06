// gunzip.h — a file's bytes, gunzipped on the way when it starts with gzip's
// magic (1f 8b), strictly: each member's CRC-32 and length (its trailer) are
// checked, a stream cut short is "truncated", and anything after the last
// member is refused. A file without the magic is read as it is. The bytes come
// from an Input (files.h): a regular file, or memory.
#ifndef GUNZIP_H
#define GUNZIP_H

#include <stdbool.h>
#include <stdio.h>
#include <zlib.h>
#include "error.h"
#include "files.h"

typedef struct {
    FILE *file;        // the Input's, not closed here
    const char *path;  // the Input's name, for messages
    bool gzip;         // the file starts with 1f 8b
    bool member_ended; // the current member's trailer has been checked
    z_stream z;        // inflate's state, over in
    unsigned char *in; // (GUNZIP_CHUNK) compressed bytes read ahead
} Gunzip;

// Starts reading in (which must stay open until gunzip_close) from its start.
bool gunzip_open(Gunzip *g, Input *in, Error *err);
// Up to n bytes into buf: how many (0 only at the end of the data), or -1 with
// err set ("path: corrupt compressed data (incorrect data check)", ...).
long gunzip_read(Gunzip *g, void *buf, long n, Error *err);
// Frees inflate's state; the Input stays open.
void gunzip_close(Gunzip *g);

#endif
