// test_files.c — atomic writes (a reader never sees half a file, a failed write
// leaves nothing), mkdir -p, and path joining that refuses to truncate.
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "files.h"
#include "scratch.h"

TestSuite(files, .init = scratch_setup, .fini = scratch_teardown);

Test(files, atomic_commit_puts_the_content_in_place_and_leaves_no_temp) {
    char path[1024];
    scratch_path(path, "table.txt");
    AtomicFile af;
    Error err;
    cr_assert(atomic_open(&af, path, &err), "%s", err.message);
    fprintf(af.file, "hello\n%d\n", 42);
    cr_assert(atomic_commit(&af, &err), "%s", err.message);
    char *text = read_whole_file(path, NULL);
    cr_assert_str_eq(text, "hello\n42\n");
    free(text);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1, "only table.txt should be left");
}

Test(files, the_target_appears_only_at_commit) {
    char path[1024];
    scratch_path(path, "late.txt");
    AtomicFile af;
    Error err;
    cr_assert(atomic_open(&af, path, &err), "%s", err.message);
    fputs("half", af.file);
    fflush(af.file);
    cr_assert_not(file_exists(path), "the target exists before the commit");
    cr_assert(file_exists(af.temp_path), "the temporary %s is missing", af.temp_path);
    cr_assert_eq(strncmp(af.temp_path, path, strlen(path)), 0, "the temporary %s is not beside %s",
                 af.temp_path, path);
    cr_assert(atomic_commit(&af, &err), "%s", err.message);
    cr_assert(file_exists(path));
    cr_assert_not(file_exists(af.temp_path), "the temporary %s is left", af.temp_path);
}

Test(files, atomic_commit_replaces_an_existing_file) {
    char path[1024];
    scratch_path(path, "data.txt");
    write_whole_file(path, "old content that is longer", 26);
    AtomicFile af;
    Error err;
    cr_assert(atomic_open(&af, path, &err), "%s", err.message);
    fputs("new", af.file);
    cr_assert(atomic_commit(&af, &err), "%s", err.message);
    char *text = read_whole_file(path, NULL);
    cr_assert_str_eq(text, "new");
    free(text);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1);
}

Test(files, atomic_abort_leaves_an_existing_target_unchanged_and_no_temp) {
    char path[1024];
    scratch_path(path, "keep.txt");
    write_whole_file(path, "precious", 8);
    AtomicFile af;
    Error err;
    cr_assert(atomic_open(&af, path, &err), "%s", err.message);
    fputs("garbage that must not land", af.file);
    atomic_abort(&af);
    char *text = read_whole_file(path, NULL);
    cr_assert_str_eq(text, "precious");
    free(text);
    cr_assert_eq(dir_count(scratch_dir, NULL), 1, "a temporary was left beside keep.txt");
}

Test(files, atomic_abort_without_a_target_leaves_nothing) {
    char path[1024];
    scratch_path(path, "never.txt");
    AtomicFile af;
    Error err;
    cr_assert(atomic_open(&af, path, &err), "%s", err.message);
    fputs("x", af.file);
    atomic_abort(&af);
    cr_assert_eq(dir_count(scratch_dir, NULL), 0);
}

Test(files, atomic_open_in_a_missing_directory_fails_naming_the_path) {
    char path[1024];
    scratch_path(path, "no/such/dir/file.txt");
    AtomicFile af;
    Error err = {{0}};
    cr_assert_not(atomic_open(&af, path, &err));
    expect_mentions(err.message, path);
    cr_assert_eq(dir_count(scratch_dir, NULL), 0);
}

Test(files, make_dirs_creates_nested_directories_and_accepts_existing_ones) {
    char path[1024];
    scratch_path(path, "a/b/c");
    Error err;
    cr_assert(make_dirs(path, &err), "%s", err.message);
    cr_assert(is_directory(path));
    cr_assert(make_dirs(path, &err), "a second call should succeed: %s", err.message);
    char slash[1024];
    scratch_path(slash, "d/e/");
    cr_assert(make_dirs(slash, &err), "a trailing slash: %s", err.message);
    cr_assert(is_directory(slash));
}

Test(files, make_parent_dirs_creates_the_directory_a_file_goes_in) {
    char path[1024], parent[1024];
    scratch_path(path, "models/run/vit.safetensors");
    scratch_path(parent, "models/run");
    Error err;
    cr_assert(make_parent_dirs(path, &err), "%s", err.message);
    cr_assert(is_directory(parent));
    cr_expect_not(is_directory(path), "the file's own name is left alone");
    cr_assert(make_parent_dirs("plain-name.txt", &err), "no directory part: nothing to do");
}

Test(files, make_dirs_through_a_file_fails_with_a_message) {
    char file[1024], path[1024];
    scratch_path(file, "plain");
    write_whole_file(file, "x", 1);
    scratch_path(path, "plain/sub");
    Error err = {{0}};
    cr_assert_not(make_dirs(path, &err));
    expect_mentions(err.message, file);
    cr_assert_not(make_dirs(file, &err), "a file is not a directory");
    expect_mentions(err.message, file);
}

Test(files, path_join_puts_a_slash_between) {
    char out[64];
    Error err;
    cr_assert(path_join(out, sizeof out, "figures/ch01", "tokens.png", &err), "%s", err.message);
    cr_assert_str_eq(out, "figures/ch01/tokens.png");
}

Test(files, path_join_refuses_a_path_that_does_not_fit) {
    char out[16];
    Error err = {{0}};
    // "abcdefg/hijklmn" is 15 characters plus the NUL: fits exactly
    cr_assert(path_join(out, sizeof out, "abcdefg", "hijklmn", &err), "%s", err.message);
    cr_assert_str_eq(out, "abcdefg/hijklmn");
    cr_assert_not(path_join(out, sizeof out, "abcdefg", "hijklmno", &err), "one more does not fit");
    expect_mentions(err.message, "hijklmno");
}
