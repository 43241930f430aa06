// files.c — atomic file writes (temporary name, then rename) and `mkdir -p`.
#include "files.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool atomic_open(AtomicFile *af, const char *path, Error *err) {
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof af->path)
        return error_set(err, "%s: path is empty or too long", path);
    memcpy(af->path, path, n + 1);
    snprintf(af->temp_path, sizeof af->temp_path, "%s.tmp.%ld", path, (long)getpid());
    af->file = fopen(af->temp_path, "wb");
    if (af->file == NULL) return error_set(err, "%s: cannot write: %s", path, strerror(errno));
    return true;
}

bool atomic_commit(AtomicFile *af, Error *err) {
    bool failed = ferror(af->file) != 0;
    failed |= fclose(af->file) != 0;
    af->file = NULL;
    if (failed) {
        remove(af->temp_path);
        return error_set(err, "%s: write failed: %s", af->path, strerror(errno));
    }
    if (rename(af->temp_path, af->path) != 0) {
        int saved = errno;
        remove(af->temp_path);
        return error_set(err, "%s: cannot rename into place: %s", af->path, strerror(saved));
    }
    return true;
}

void atomic_abort(AtomicFile *af) {
    if (af->file != NULL) fclose(af->file);
    af->file = NULL;
    remove(af->temp_path);
}

bool make_dirs(const char *path, Error *err) {
    char partial[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof partial)
        return error_set(err, "%s: directory path is empty or too long", path);
    memcpy(partial, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (partial[i] != '/' && partial[i] != '\0') continue;
        char saved = partial[i];
        partial[i] = '\0';
        if (mkdir(partial, 0777) != 0 && errno != EEXIST)
            return error_set(err, "%s: cannot create directory: %s", partial, strerror(errno));
        partial[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_set(err, "%s: exists but is not a directory", path);
    return true;
}

bool make_parent_dirs(const char *path, Error *err) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) return true; // the current directory, or /
    char parent[1024];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof parent) return error_set(err, "%s: path too long", path);
    memcpy(parent, path, n);
    parent[n] = '\0';
    return make_dirs(parent, err);
}

bool path_join(char *out, size_t out_size, const char *dir, const char *name, Error *err) {
    int n = snprintf(out, out_size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= out_size) return error_set(err, "%s/%s: path too long", dir, name);
    return true;
}
