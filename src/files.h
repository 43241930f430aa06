// files.h — files in and out. Reading: a file from outside is opened only if it
// is a regular file, and a failed open says why in plain words. Writing: a
// reader never sees half a file, as the data goes to a temporary name beside
// the target and is renamed over it only once complete. Also `mkdir -p`.
#ifndef FILES_H
#define FILES_H

#include <stdbool.h>
#include <stdio.h>
#include "error.h"

// Opens path for reading. Refuses, before reading a byte, what is not a regular
// file (a FIFO, which could block forever, a directory, a device); the open
// itself cannot block (O_NONBLOCK). On failure returns NULL with one line in
// err: "path: not found", "not readable (permission denied)", "a loop of
// symbolic links", "not a regular file (a FIFO)", ...
FILE *input_open(const char *path, Error *err);

// A file's bytes to read, whether from a file or from memory, and how many
// there are: the readers of IDX files and checkpoints read through this, so
// the same code reads a path, or bytes a program already holds (a fuzz target's
// input) through a stream over them (fmemopen).
typedef struct {
    FILE *file;              // the bytes, from the start
    unsigned long long size; // how many
    const char *name;        // the path, or the name given; the caller's string, for messages
} Input;

// input_open(path), and the file's size.
bool input_open_file(Input *in, const char *path, Error *err);
// The size bytes at data, read in place (they must outlive the Input), named name.
bool input_open_memory(Input *in, const void *data, size_t size, const char *name, Error *err);
void input_close(Input *in);

typedef struct {
    FILE *file;           // write here between atomic_open and atomic_commit
    char path[1024];      // where the file ends up (a symlink's target)
    char temp_path[1040]; // "<path>.tmp.<pid>" while it is being written; "" in place
    int temp_slot;        // temp_track's slot of temp_path, or -1
} AtomicFile;

// Starts writing path. A symlink is written through (its target replaced, the
// link kept); a target that exists and is not a regular file (/dev/stdout, a
// FIFO with a reader) is written in place; a directory is refused. The
// temporary is removed if SIGINT, SIGTERM or SIGHUP ends the program.
bool atomic_open(AtomicFile *af, const char *path, Error *err);
// Flushes, closes and renames into place. On failure the temporary is removed.
bool atomic_commit(AtomicFile *af, Error *err);
// Closes and removes the temporary; the target is left as it was.
void atomic_abort(AtomicFile *af);

// Whether path can be written now, as atomic_open would: a temporary is made
// beside it and removed (a device or a FIFO is only checked for permission);
// for checking a program's outputs before hours of work rather than after.
bool output_check(const char *path, Error *err);

// A file made under a temporary name outside an AtomicFile (gnuplot's PNG):
// removed if SIGINT, SIGTERM or SIGHUP ends the program until temp_forget(slot).
// Returns the slot (-1 when all 32 are taken). For the main thread only.
int temp_track(const char *path);
void temp_forget(int slot);

// Creates a directory and its parents, like `mkdir -p`.
bool make_dirs(const char *path, Error *err);
// Creates the directory a file path lies in ("a/b" for "a/b/c.txt"), and its parents.
bool make_parent_dirs(const char *path, Error *err);

// "dir/name" into out (size out_size); refuses a path that does not fit.
bool path_join(char *out, size_t out_size, const char *dir, const char *name, Error *err);

#endif
