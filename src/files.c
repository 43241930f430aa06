// files.c — opening outside files to read (regular files only, honest
// messages), atomic file writes (temporary name, then rename) and `mkdir -p`.
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// ---- reading -----------------------------------------------------------------

// What kind of file st is, in words, for one that is not a regular file.
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
}

// Why open(path) failed with errno e, in plain words.
static bool open_failed(const char *path, int e, Error *err) {
    struct stat st;
    if (e == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return error_set(err, "%s: not found (a symbolic link to a missing file)", path);
    if (e == ENOENT) return error_set(err, "%s: not found", path);
    if (e == ENOTDIR) return error_set(err, "%s: not found (a part of the path is not a directory)",
                                       path);
    if (e == EACCES || e == EPERM)
        return error_set(err, "%s: not readable (permission denied)", path);
    if (e == ELOOP) return error_set(err, "%s: cannot open: a loop of symbolic links", path);
    if (e == ENXIO) return error_set(err, "%s: not a regular file (a socket or a device)", path);
    return error_set(err, "%s: cannot open: %s", path, strerror(e));
}

FILE *input_open(const char *path, Error *err) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); // a FIFO cannot block the open
    if (fd < 0) {
        open_failed(path, errno, err);
        return NULL;
    }
    struct stat st;
    int flags = fcntl(fd, F_GETFL);
    FILE *file = NULL;
    if (fstat(fd, &st) != 0)
        error_set(err, "%s: cannot read its status: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        error_set(err, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
    else if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
             (file = fdopen(fd, "rb")) == NULL)
        error_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (file == NULL) close(fd);
    return file;
}

// ---- writing -----------------------------------------------------------------

// ---- writing -----------------------------------------------------------------

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
