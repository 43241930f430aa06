// test_bad_files.c — files that are not what they seem: each test makes the
// bad file itself in a scratch directory, calls what the programs call, and
// checks the one-line message names the file and the problem, that nothing
// hangs, and what was left behind. Readers (IDX, gzip, checkpoints, images): a
// FIFO, a directory, a device, a symlink loop, a file it may not read, a gzip
// stream with a flipped CRC byte, a cut trailer or bytes after it. Writers: a
// write killed by SIGINT or SIGTERM, a symlink, a device, a FIFO, a directory
// as target; a gnuplot that exits 0 with a broken PNG; a newline in a path.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <criterion/criterion.h>
#include "ch06.h"
#include "check.h"
#include "scratch.h"

TestSuite(bad_files, .init = scratch_setup, .fini = scratch_teardown);

// ---- helpers -----------------------------------------------------------------------

// A valid IDX of 3 labels (0, 1, 2).
static const unsigned char labels_idx[] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2};

// path must be refused by every reader, with a message naming it and mentioning `problem`.
static void expect_every_reader_refuses(const char *path, const char *problem) {
    Error err = {{0}};
    IdxArray a;
    cr_assert_not(idx_read(path, 1, &a, &err), "idx_read accepted %s", path);
    expect_mentions(err.message, path);
    expect_mentions(err.message, problem);
    cr_assert_null(strchr(err.message, '\n'), "not one line: \"%s\"", err.message);
    Image img;
    cr_assert_not(image_read(path, 1, &img, &err), "image_read accepted %s", path);
    expect_mentions(err.message, path);
    expect_mentions(err.message, problem);
    SafetensorsMeta meta;
    cr_assert_not(safetensors_read_meta(path, &meta, &err), "a checkpoint at %s was read", path);
    expect_mentions(err.message, path);
    expect_mentions(err.message, problem);
}

// ---- what is not a regular file, and why an open failed -------------------------------

Test(bad_files, a_fifo_is_refused_without_blocking, .timeout = 20) {
    char path[1024];
    cr_assert_eq(mkfifo(scratch_path(path, "pipe"), 0600), 0, "mkfifo: %s", strerror(errno));
    expect_every_reader_refuses(path, "not a regular file (a FIFO)");
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
}

Test(bad_files, a_directory_and_a_device_are_refused) {
    char path[1024];
    cr_assert_eq(mkdir(scratch_path(path, "dir.gz"), 0700), 0);
    expect_every_reader_refuses(path, "not a regular file (a directory)");
    expect_every_reader_refuses("/dev/null", "not a regular file (a character device)");
}

Test(bad_files, a_missing_file_a_dangling_link_and_a_loop_are_told_apart) {
    char path[1024], a[1024], b[1024];
    expect_every_reader_refuses(scratch_path(path, "missing"), ": not found");
    cr_assert_eq(symlink("missing", scratch_path(path, "dangling")), 0);
    expect_every_reader_refuses(path, "not found (a symbolic link to a missing file)");
    cr_assert_eq(symlink("loop-b", scratch_path(a, "loop-a")), 0);
    cr_assert_eq(symlink("loop-a", scratch_path(b, "loop-b")), 0);
    expect_every_reader_refuses(a, "a loop of symbolic links");
    write_whole_file(scratch_path(a, "file"), "x", 1); // a file where a directory should be
    expect_every_reader_refuses(scratch_path(path, "file/x"),
                                "not found (a part of the path is not a directory)");
}

Test(bad_files, a_file_without_read_permission_is_not_readable_not_missing) {
    char path[1024];
    write_whole_file(scratch_path(path, "secret"), labels_idx, sizeof labels_idx);
    cr_assert_eq(chmod(path, 0), 0);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        close(fd);
        cr_skip_test("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop reading");
    }
    expect_every_reader_refuses(path, "not readable (permission denied)");
}

// The data directory: an unreadable or odd file is named as it is, not "not found".
Test(bad_files, the_data_directory_reports_what_is_wrong_with_a_file, .timeout = 20) {
    char path[1024];
    cr_assert_eq(mkfifo(scratch_path(path, "t10k-images-idx3-ubyte.gz"), 0600), 0);
    FashionMnist data;
    Error err;
    cr_assert_not(fashion_mnist_load(&data, scratch_dir, FASHION_MNIST_TEST, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "a FIFO");
}

// ---- gzip: CRC, length, trailer, trailing bytes ---------------------------------------

// labels_idx gzipped into out (its size in *n), as gzip(1) writes it.
static void gzip_bytes(unsigned char *out, size_t *n, size_t capacity) {
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)labels_idx;
    z.avail_in = sizeof labels_idx;
    z.next_out = out;
    z.avail_out = (uInt)capacity;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *n = capacity - z.avail_out;
    deflateEnd(&z);
}

// These gzip bytes, as a labels file, must be refused with `problem`; out untouched.
static void expect_gzip_refused(const unsigned char *bytes, size_t n, const char *problem) {
    char path[1024];
    write_whole_file(scratch_path(path, "labels.gz"), bytes, n);
    IdxArray out;
    memset(&out, 0x5a, sizeof out);
    IdxArray before = out;
    Error err = {{0}};
    bool ok = idx_read(path, 1, &out, &err);
    if (ok) idx_free(&out);
    cr_assert_not(ok, "a gzip file with %s was accepted", problem);
    expect_mentions(err.message, path);
    expect_mentions(err.message, problem);
    cr_assert_eq(memcmp(&out, &before, sizeof out), 0, "out was changed by a failed read");
}

Test(bad_files, a_gzip_stream_whose_crc_or_length_is_wrong_is_corrupt) {
    unsigned char gz[256];
    size_t n;
    gzip_bytes(gz, &n, sizeof gz);
    gz[n - 8] ^= 0x01; // the CRC-32's first byte
    expect_gzip_refused(gz, n, "corrupt compressed data (incorrect data check)");
    gz[n - 8] ^= 0x01;
    gz[n - 4] ^= 0x01; // ISIZE, the length mod 2^32
    expect_gzip_refused(gz, n, "corrupt compressed data (incorrect length check)");
    gz[n - 4] ^= 0x01;
    gz[3] = 0xe0; // reserved flag bits
    expect_gzip_refused(gz, n, "corrupt compressed data");
}

Test(bad_files, a_gzip_stream_without_its_trailer_is_truncated) {
    unsigned char gz[256];
    size_t n;
    gzip_bytes(gz, &n, sizeof gz);
    expect_gzip_refused(gz, n - 8, "truncated: the gzip data ends before its trailer");
    expect_gzip_refused(gz, n - 1, "truncated: the gzip data ends before its trailer");
    expect_gzip_refused(gz, 12, "truncated"); // inside the deflate data
}

Test(bad_files, bytes_after_a_gzip_stream_are_refused) {
    unsigned char gz[512];
    size_t n;
    gzip_bytes(gz, &n, sizeof gz);
    memcpy(gz + n, "garbage", 7);
    expect_gzip_refused(gz, n + 7, "trailing data after the end of the gzip stream");
    memset(gz + n, 0, 7); // zero padding too
    expect_gzip_refused(gz, n + 7, "trailing data after the end of the gzip stream");
    gzip_bytes(gz + n, &(size_t){0}, sizeof gz - n); // a second member: more data than promised
    expect_gzip_refused(gz, 2 * n, "has data past the 3 bytes its header promises");
}

Test(bad_files, a_good_gzip_stream_and_one_in_two_members_read_back) {
    unsigned char gz[256];
    size_t n;
    gzip_bytes(gz, &n, sizeof gz);
    char path[1024];
    write_whole_file(scratch_path(path, "labels.gz"), gz, n);
    IdxArray a;
    Error err;
    cr_assert(idx_read(path, 1, &a, &err), "%s", err.message);
    cr_assert(a.dims[0] == 3 && a.data[2] == 2);
    idx_free(&a);
    gzFile f = gzopen(path, "wb"); // header in one member, labels in another (as `cat a.gz b.gz`)
    cr_assert_eq(gzwrite(f, labels_idx, 8), 8);
    cr_assert_eq(gzclose(f), Z_OK);
    f = gzopen(path, "ab");
    cr_assert_eq(gzwrite(f, labels_idx + 8, 3), 3);
    cr_assert_eq(gzclose(f), Z_OK);
    cr_assert(idx_read(path, 1, &a, &err), "%s", err.message);
    cr_assert(a.dims[0] == 3 && a.data[1] == 1);
    idx_free(&a);
}

// ---- writes: killed mid-write, odd targets, figures -----------------------------------

// In a child: starts writing path, then sends itself sig. The child must die of
// it, and leave no temporary (and path, if it existed, unchanged).
static void expect_killed_write_leaves_nothing(const char *path, int sig) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        // As from a terminal: a run started in the background by a shell without
        // job control inherits SIGINT ignored, and the library leaves an ignored
        // signal ignored.
        signal(sig, SIG_DFL);
        AtomicFile af;
        Error err;
        if (!atomic_open(&af, path, &err)) _exit(3);
        fputs("half a file", af.file);
        fflush(af.file);
        raise(sig);
        _exit(4); // not reached: the signal ends the child
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig,
              "the child was not ended by signal %d (status %#x)", sig, status);
    cr_assert_eq(dir_count(scratch_dir, ".tmp."), 0, "a temporary was left after signal %d", sig);
}

Test(bad_files, sigint_and_sigterm_mid_write_leave_no_temporary) {
    char path[1024];
    expect_killed_write_leaves_nothing(scratch_path(path, "run.safetensors"), SIGINT);
    expect_killed_write_leaves_nothing(path, SIGTERM);
    cr_assert_eq(dir_count(scratch_dir, NULL), 0);
    write_whole_file(path, "old", 3);
    expect_killed_write_leaves_nothing(path, SIGTERM);
    char *text = read_whole_file(path, NULL);
    cr_assert_str_eq(text, "old", "the target was changed by a killed write");
    free(text);
}

// Writes "new" to path through an AtomicFile.
static bool write_new(const char *path, Error *err) {
    AtomicFile af;
    if (!atomic_open(&af, path, err)) return false;
    fputs("new", af.file);
    return atomic_commit(&af, err);
}

Test(bad_files, a_symlink_is_written_through_and_stays_a_link) {
    char link[1024], target[1024], dangling[1024];
    write_whole_file(scratch_path(target, "target.csv"), "old", 3);
    cr_assert_eq(symlink("target.csv", scratch_path(link, "link.csv")), 0);
    Error err;
    cr_assert(write_new(link, &err), "%s", err.message);
    struct stat st;
    cr_assert(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced by a file");
    char *text = read_whole_file(target, NULL);
    cr_assert_str_eq(text, "new");
    free(text);
    cr_assert_eq(symlink("later.csv", scratch_path(dangling, "dangling.csv")), 0);
    cr_assert(write_new(dangling, &err), "%s", err.message); // the missing target is made
    cr_assert(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode));
    cr_assert(file_exists(scratch_path(target, "later.csv")));
    cr_assert_eq(dir_count(scratch_dir, NULL), 4, "target, later and the two links");
}

Test(bad_files, a_device_is_written_in_place_and_a_directory_refused) {
    Error err;
    cr_assert(write_new("/dev/null", &err), "%s", err.message);
    struct stat st;
    cr_assert(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null was replaced");
    char path[1024];
    cr_assert_eq(symlink("/dev/null", scratch_path(path, "null-link")), 0);
    cr_assert(write_new(path, &err), "%s", err.message);
    cr_assert(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null was replaced");
    cr_assert_eq(mkdir(scratch_path(path, "dir"), 0700), 0);
    cr_assert_not(write_new(path, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "it is a directory");
    cr_assert_eq(dir_count(scratch_dir, NULL), 2, "a temporary was left");
}

Test(bad_files, a_fifo_without_a_reader_is_refused_not_waited_on, .timeout = 20) {
    char path[1024];
    cr_assert_eq(mkfifo(scratch_path(path, "out.csv"), 0600), 0);
    Error err;
    cr_assert_not(write_new(path, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "a FIFO with no reader");
    struct stat st;
    cr_assert(stat(path, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
}

// A fake gnuplot in the scratch directory, first on PATH: it runs `body` (sh)
// with $outfile set as the real one's -e "outfile='...'" sets it.
static void fake_gnuplot(const char *body) {
    char path[1024], script[512];
    snprintf(script, sizeof script, "#!/bin/sh\neval \"$2\"\n%s\n", body);
    write_whole_file(scratch_path(path, "gnuplot"), script, strlen(script));
    cr_assert_eq(chmod(path, 0755), 0);
    setenv("PATH", scratch_dir, 1);
    cr_assert(plot_have_gnuplot());
}

// plot_render in scratch/fig must fail mentioning `problem`, with no PNG and no temporary.
static void expect_render_refused(const char *problem) {
    char dir[1024];
    Plot plot;
    Error err;
    cr_assert(plot_begin(&plot, scratch_path(dir, "fig"), "line", "x y", &err), "%s", err.message);
    plot_printf(&plot, "0 0\n1 1\n");
    cr_assert_not(plot_render(&plot, "plot DATA with lines\n", &err), "a bad PNG was published");
    expect_mentions(err.message, "line.gp");
    expect_mentions(err.message, problem);
    cr_assert_eq(dir_count(dir, ".png"), 0, "a PNG or its temporary was left");
    cr_assert_eq(dir_count(dir, NULL), 2, "only line.dat and line.gp");
}

Test(bad_files, a_png_gnuplot_cut_short_is_not_renamed_into_place) {
    fake_gnuplot("printf '\\211PNG\\r\\n\\032\\n' > \"$outfile\"; exit 0"); // a full disk
    expect_render_refused("is not a whole PNG");
}

Test(bad_files, a_png_gnuplot_never_wrote_is_named) {
    fake_gnuplot("exit 0");
    expect_render_refused("gnuplot wrote no");
}

Test(bad_files, a_figure_directory_with_a_newline_is_refused) {
    char dir[1024];
    Plot plot;
    Error err;
    scratch_path(dir, "out\nset output '/tmp/x'");
    cr_assert_not(plot_begin(&plot, dir, "line", "x y", &err));
    cr_assert_null(strchr(err.message, '\n'), "not one line: \"%s\"", err.message);
    expect_mentions(err.message, "out\\x0aset output");
    expect_mentions(err.message, "control character");
    cr_assert_eq(dir_count(scratch_dir, NULL), 0);
}

// ---- outputs checked before the work -------------------------------------------------

Test(bad_files, outputs_are_checked_before_the_work_and_nothing_is_left) {
    char path[1024], file[1024];
    Error err;
    cr_assert(output_check(scratch_path(path, "run.safetensors"), &err), "%s", err.message);
    write_whole_file(scratch_path(file, "plain"), "x", 1);
    cr_assert_not(output_check(scratch_path(path, "plain/run.safetensors"), &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "cannot write");
    cr_assert_not(output_check(scratch_dir, &err));
    expect_mentions(err.message, "it is a directory");
    cr_assert(output_check("/dev/null", &err), "%s", err.message);
    cr_assert_not(plot_dir_check("figures/ch06\rx", &err));
    expect_mentions(err.message, "figures/ch06\\x0dx");
    cr_assert(plot_dir_check("figures/ch06 (copy)", &err), "%s", err.message);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1, "only the file made here");
}
