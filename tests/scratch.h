// scratch.h — a fresh temporary directory for a test that writes files, and
// small helpers to look at what was left in it. Each Criterion test runs in its
// own process, so a suite keeps its directory in a static and sets it up and
// removes it with .init = scratch_setup, .fini = scratch_teardown.
#ifndef SCRATCH_H
#define SCRATCH_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

static char scratch_dir[64]; // "/tmp/vit-test-XXXXXX" while a test runs

static inline void scratch_setup(void) {
    strcpy(scratch_dir, "/tmp/vit-test-XXXXXX");
    cr_assert(mkdtemp(scratch_dir) != NULL, "mkdtemp failed");
}

// rm -r path (path is ours: made by mkdtemp).
static inline void scratch_remove(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                char child[4096];
                int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof child) scratch_remove(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void scratch_teardown(void) {
    if (scratch_dir[0] != '\0') scratch_remove(scratch_dir);
}

// "<scratch_dir>/<name>" into out; returns out.
static inline char *scratch_path(char out[1024], const char *name) {
    snprintf(out, 1024, "%s/%s", scratch_dir, name);
    return out;
}

// How many entries dir has, and how many of them contain `part` in their name.
static inline int dir_count(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (part == NULL || strstr(e->d_name, part) != NULL) n++;
    }
    closedir(d);
    return n;
}

static inline bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static inline bool is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// The whole file as a NUL-terminated string (free it); *size gets its length.
static inline char *read_whole_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    cr_assert(text != NULL);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    cr_assert_eq((long)got, n, "short read of %s", path);
    text[n] = '\0';
    if (size != NULL) *size = n;
    return text;
}

static inline void write_whole_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "cannot create %s", path);
    cr_assert_eq(fwrite(bytes, 1, n, f), n, "short write to %s", path);
    cr_assert_eq(fclose(f), 0);
}

#endif
