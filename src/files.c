// files.c — opening outside files to read (regular files only, honest
// messages), atomic file writes (temporary name, then rename; temporaries
// removed on SIGINT, SIGTERM and SIGHUP) and `mkdir -p`.
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
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
    if (e == ENOTDIR)
        return error_set(err, "%s: not found (a part of the path is not a directory)", path);
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

bool input_open_file(Input *in, const char *path, Error *err) {
    *in = (Input){.name = path};
    in->file = input_open(path, err);
    if (in->file == NULL) return false;
    struct stat st;
    if (fstat(fileno(in->file), &st) == 0) {
        in->size = (unsigned long long)st.st_size;
        return true;
    }
    error_set(err, "%s: cannot read its status: %s", path, strerror(errno));
    input_close(in);
    return false;
}

bool input_open_memory(Input *in, const void *data, size_t size, const char *name, Error *err) {
    *in = (Input){.size = size, .name = name};
    // fmemopen wants a non-const buffer, but "rb" only reads it; 0 bytes read as an empty file.
    in->file = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (in->file != NULL) return true;
    return error_set(err, "%s: cannot read %zu bytes from memory: %s", name, size, strerror(errno));
}

void input_close(Input *in) {
    if (in->file != NULL) fclose(in->file);
    in->file = NULL;
}

// ---- writing -----------------------------------------------------------------

// ---- temporary files, removed when SIGINT, SIGTERM or SIGHUP ends the program -----

#define TEMP_SLOTS 32
static char temp_paths[TEMP_SLOTS][1100];
static volatile sig_atomic_t temp_used[TEMP_SLOTS];

// Only async-signal-safe calls: unlink, then the signal again with its default
// action (SA_RESETHAND restored it), which ends the program once this returns.
static void remove_temps(int sig) {
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (temp_used[i]) unlink(temp_paths[i]);
    raise(sig);
}

// The handler, for each signal whose action is still the default (not one the
// program ignores or handles itself).
static void install_handler(void) {
    static bool installed = false;
    if (installed) return;
    installed = true;
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction old, action = {.sa_handler = remove_temps, .sa_flags = SA_RESETHAND};
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(signals[i], &action, NULL);
    }
}

int temp_track(const char *path) {
    install_handler();
    for (int i = 0; i < TEMP_SLOTS; i++) {
        if (temp_used[i]) continue;
        snprintf(temp_paths[i], sizeof temp_paths[i], "%s", path);
        atomic_signal_fence(memory_order_seq_cst); // the path is whole before the handler sees it
        temp_used[i] = 1;
        return i;
    }
    return -1; // all slots taken: this one is not removed on a signal
}

void temp_forget(int slot) {
    if (slot >= 0) temp_used[slot] = 0;
}

// ---- atomic writes -----------------------------------------------------------

// A symlink is written through: its target (followed link by link, and
// perhaps missing yet) is what gets replaced, and the link stays.
static bool follow_link(AtomicFile *af, Error *err) {
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(af->path, &st) != 0 || !S_ISLNK(st.st_mode)) return true;
        char target[1024], joined[2100];
        ssize_t n = readlink(af->path, target, sizeof target - 1);
        if (n < 0) return error_set(err, "%s: cannot read the link: %s", af->path, strerror(errno));
        target[n] = '\0';
        // a relative target is from the link's directory
        const char *slash = strrchr(af->path, '/');
        int dir = target[0] != '/' && slash != NULL ? (int)(slash - af->path + 1) : 0;
        snprintf(joined, sizeof joined, "%.*s%s", dir, af->path, target);
        if (strlen(joined) >= sizeof af->path)
            return error_set(err, "%s: the link's target path is too long", af->path);
        strcpy(af->path, joined);
    }
    return error_set(err, "%s: cannot write: a loop of symbolic links", af->path);
}

// A target that is not a regular file (a device such as /dev/stdout, a FIFO)
// is written in place: it cannot be renamed over, and should not be.
static bool open_in_place(AtomicFile *af, mode_t mode, Error *err) {
    if (S_ISDIR(mode)) return error_set(err, "%s: cannot write: it is a directory", af->path);
    int fd = open(af->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC); // no reader: ENXIO, not a hang
    if (fd < 0 && errno == ENXIO)
        return error_set(err, "%s: cannot write: a FIFO with no reader", af->path);
    if (fd < 0) return error_set(err, "%s: cannot write: %s", af->path, strerror(errno));
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
        (af->file = fdopen(fd, "wb")) == NULL) {
        close(fd);
        return error_set(err, "%s: cannot write: %s", af->path, strerror(errno));
    }
    return true;
}

// Whether path names a file of the system's (/dev/stdout, /proc/self/fd/1),
// written where it is rather than replaced.
static bool system_file(const char *path) {
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

bool atomic_open(AtomicFile *af, const char *path, Error *err) {
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof af->path)
        return error_set(err, "%s: path is empty or too long", path);
    *af = (AtomicFile){.temp_slot = -1};
    memcpy(af->path, path, n + 1);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if ((exists && !S_ISREG(st.st_mode)) || system_file(path))
        return open_in_place(af, exists ? st.st_mode : 0, err);
    if (!follow_link(af, err)) return false;
    snprintf(af->temp_path, sizeof af->temp_path, "%s.tmp.%ld", af->path, (long)getpid());
    af->temp_slot = temp_track(af->temp_path);
    af->file = fopen(af->temp_path, "wb");
    if (af->file != NULL) return true;
    int saved = errno;
    temp_forget(af->temp_slot);
    return error_set(err, "%s: cannot write: %s", af->path, strerror(saved));
}

// Closes a target written in place; nothing to rename.
static bool close_in_place(AtomicFile *af, Error *err) {
    bool failed = ferror(af->file) != 0;
    failed |= fclose(af->file) != 0;
    af->file = NULL;
    return !failed || error_set(err, "%s: write failed: %s", af->path, strerror(errno));
}

bool atomic_commit(AtomicFile *af, Error *err) {
    if (af->temp_path[0] == '\0') return close_in_place(af, err);
    bool failed = ferror(af->file) != 0;
    failed |= fclose(af->file) != 0;
    af->file = NULL;
    int saved = errno;
    if (!failed && rename(af->temp_path, af->path) == 0) {
        temp_forget(af->temp_slot);
        return true;
    }
    if (!failed) saved = errno;
    remove(af->temp_path);
    temp_forget(af->temp_slot);
    if (failed) return error_set(err, "%s: write failed: %s", af->path, strerror(saved));
    return error_set(err, "%s: cannot rename into place: %s", af->path, strerror(saved));
}

void atomic_abort(AtomicFile *af) {
    if (af->file != NULL) fclose(af->file);
    af->file = NULL;
    if (af->temp_path[0] == '\0') return; // written in place: nothing to remove
    remove(af->temp_path);
    temp_forget(af->temp_slot);
}

bool output_check(const char *path, Error *err) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return error_set(err, "%s: cannot write: it is a directory", path);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) // opening a FIFO would end its reader's input
        return access(path, W_OK) == 0 ||
               error_set(err, "%s: cannot write: %s", path, strerror(errno));
    AtomicFile af;
    if (!atomic_open(&af, path, err)) return false;
    atomic_abort(&af);
    return true;
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
