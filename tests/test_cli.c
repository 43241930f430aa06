// test_cli.c — the command line: both spellings of every kind of option, every
// way a command line can be wrong, --help, the exit codes, the usage text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "cli.h"
#include "fashion_mnist.h"

// The options of a typical chapter program, with their defaults.
static int patch = 4;
static float lr = 0.001f;
static const char *out = "figures/ch01";
static bool quiet = false;

static const CliOption options[] = {
    {.name = "patch",
     .kind = CLI_INT,
     .value = &patch,
     .help = "patch size in pixels",
     .min = 1,
     .max = 28},
    {.name = "lr", .kind = CLI_FLOAT, .value = &lr, .help = "learning rate", .min = 0, .max = 1},
    {.name = "out",
     .kind = CLI_STRING,
     .value = &out,
     .help = "where the figures go",
     .arg = "DIR"},
    {.name = "quiet", .kind = CLI_SWITCH, .value = &quiet, .help = "print nothing"},
};
enum { OPTION_COUNT = sizeof options / sizeof options[0] };

// Runs cli_parse on a NULL-terminated list of arguments after the program name.
#define PARSE(err, ...) parse_args((err), (const char *[]){"prog", __VA_ARGS__, NULL})

static CliResult parse_args(Error *err, const char **args) {
    int argc = 0;
    while (args[argc] != NULL) argc++;
    err->message[0] = '\0';
    return cli_parse(argc, (char **)args, options, OPTION_COUNT, err);
}

static void expect_bad(CliResult r, const Error *err, const char *mention) {
    cr_assert_eq(r, CLI_BAD, "expected CLI_BAD, got %d (message \"%s\")", r, err->message);
    cr_assert_neq(err->message[0], '\0', "CLI_BAD without a message");
    cr_assert_null(strchr(err->message, '\n'), "the message should be one line: \"%s\"",
                   err->message);
    expect_mentions(err->message, mention);
}

// ---- good command lines ------------------------------------------------------

Test(cli, no_arguments_keeps_the_defaults) {
    Error err;
    cr_assert_eq(cli_parse(1, (char *[]){"prog", NULL}, options, OPTION_COUNT, &err), CLI_OK);
    cr_assert_eq(patch, 4);
    cr_assert_float_eq(lr, 0.001f, 0);
    cr_assert_str_eq(out, "figures/ch01");
    cr_assert_not(quiet);
}

Test(cli, parses_name_space_value_for_every_kind) {
    Error err;
    CliResult r = PARSE(&err, "--patch", "7", "--lr", "0.25", "--out", "/tmp/x", "--quiet");
    cr_assert_eq(r, CLI_OK, "%s", err.message);
    cr_assert_eq(patch, 7);
    cr_assert_float_eq(lr, 0.25f, 0);
    cr_assert_str_eq(out, "/tmp/x");
    cr_assert(quiet);
}

Test(cli, parses_name_equals_value_for_every_kind) {
    Error err;
    CliResult r = PARSE(&err, "--patch=14", "--lr=1e-3", "--out=a=b", "--quiet");
    cr_assert_eq(r, CLI_OK, "%s", err.message);
    cr_assert_eq(patch, 14);
    cr_assert_float_eq(lr, 1e-3f, 0);
    cr_assert_str_eq(out, "a=b", "only the first '=' separates the name");
    cr_assert(quiet);
}

Test(cli, range_ends_are_inclusive_and_negative_numbers_are_values) {
    static int shift = 0;
    const CliOption opts[] = {
        {.name = "shift", .kind = CLI_INT, .value = &shift, .help = "shift", .min = -3, .max = 3}};
    Error err;
    cr_assert_eq(cli_parse(3, (char *[]){"prog", "--shift", "-3", NULL}, opts, 1, &err), CLI_OK,
                 "%s", err.message);
    cr_assert_eq(shift, -3);
    cr_assert_eq(PARSE(&err, "--patch", "1", "--lr", "1"), CLI_OK, "%s", err.message);
    cr_assert_eq(PARSE(&err, "--patch", "28", "--lr", "0"), CLI_OK, "%s", err.message);
    cr_assert_eq(patch, 28);
}

Test(cli, the_last_of_a_repeated_flag_wins) {
    Error err;
    cr_assert_eq(PARSE(&err, "--patch", "2", "--patch=7"), CLI_OK, "%s", err.message);
    cr_assert_eq(patch, 7);
}

// ---- bad command lines --------------------------------------------------------

Test(cli, refuses_an_unknown_flag) {
    Error err;
    expect_bad(PARSE(&err, "--patches", "4"), &err, "--patches");
    expect_bad(PARSE(&err, "--bogus=1"), &err, "bogus");
}

Test(cli, refuses_a_flag_without_its_value) {
    Error err;
    expect_bad(PARSE(&err, "--patch"), &err, "--patch");
    expect_bad(PARSE(&err, "--lr", "0.1", "--out"), &err, "--out");
}

Test(cli, refuses_an_empty_value) {
    Error err;
    expect_bad(PARSE(&err, "--patch="), &err, "--patch");
    expect_bad(PARSE(&err, "--lr", ""), &err, "--lr");
}

Test(cli, refuses_an_int_that_is_not_a_whole_number) {
    Error err;
    expect_bad(PARSE(&err, "--patch", "12x"), &err, "--patch");
    expect_bad(PARSE(&err, "--patch", "3.5"), &err, "--patch");
    expect_bad(PARSE(&err, "--patch", "four"), &err, "--patch");
    expect_bad(PARSE(&err, "--patch", "99999999999999999999"), &err, "--patch");
}

Test(cli, refuses_a_float_that_is_not_a_number) {
    Error err;
    expect_bad(PARSE(&err, "--lr", "12x"), &err, "--lr");
    expect_bad(PARSE(&err, "--lr=0.1.2"), &err, "--lr");
    expect_bad(PARSE(&err, "--lr", "nan"), &err, "--lr"); // NaN slips past x < min || x > max
    expect_bad(PARSE(&err, "--lr", "inf"), &err, "--lr");
}

Test(cli, refuses_a_number_out_of_range) {
    Error err;
    expect_bad(PARSE(&err, "--patch", "29"), &err, "--patch");
    expect_bad(PARSE(&err, "--patch", "0"), &err, "--patch");
    expect_bad(PARSE(&err, "--lr=1.5"), &err, "--lr");
    expect_bad(PARSE(&err, "--lr", "-0.1"), &err, "--lr");
}

Test(cli, refuses_an_int_that_overflows_int_even_if_the_range_allows_it) {
    static int big = 0;
    const CliOption opts[] = {
        {.name = "big", .kind = CLI_INT, .value = &big, .help = "big", .min = -1e12, .max = 1e12}};
    Error err;
    CliResult r = cli_parse(3, (char *[]){"prog", "--big", "3000000000", NULL}, opts, 1, &err);
    cr_assert_eq(r, CLI_BAD, "3000000000 does not fit an int, but became %d", big);
    expect_mentions(err.message, "--big");
}

Test(cli, refuses_a_positional_argument) {
    Error err;
    expect_bad(PARSE(&err, "--patch", "4", "image.png"), &err, "image.png");
    expect_bad(PARSE(&err, "-patch", "4"), &err, "-patch");
}

Test(cli, refuses_a_value_given_to_a_switch) {
    Error err;
    expect_bad(PARSE(&err, "--quiet=yes"), &err, "--quiet");
}

// ---- help and exits -----------------------------------------------------------------

Test(cli, help_gives_cli_help_wherever_it_is) {
    Error err;
    cr_assert_eq(PARSE(&err, "--help"), CLI_HELP);
    cr_assert_eq(PARSE(&err, "--patch", "4", "--help"), CLI_HELP);
}

Test(cli, parse_or_exit_returns_with_the_values_on_a_good_line) {
    char *argv[] = {"build/ch01_patches", "--patch", "2", NULL};
    cli_parse_or_exit(3, argv, "cuts images into patches", options, OPTION_COUNT);
    cr_assert_eq(patch, 2);
}

Test(cli, parse_or_exit_exits_0_on_help, .exit_code = 0) {
    char *argv[] = {"build/ch01_patches", "--help", NULL};
    fflush(stdout);
    cr_redirect_stdout();
    cli_parse_or_exit(2, argv, "cuts images into patches", options, OPTION_COUNT);
    cr_assert_fail("cli_parse_or_exit returned after --help");
}

Test(cli, parse_or_exit_exits_2_on_a_bad_flag, .exit_code = 2) {
    char *argv[] = {"build/ch01_patches", "--nope", NULL};
    cr_redirect_stderr();
    cli_parse_or_exit(2, argv, "cuts images into patches", options, OPTION_COUNT);
    cr_assert_fail("cli_parse_or_exit returned after a bad flag");
}

// LeakSanitizer's exit-time check cannot stop the threads of a process forked
// from a threaded one and complains; the forked child below turns it off (its
// parent, the test, is still checked). Called by LeakSanitizer at exit.
static volatile int in_forked_child = 0;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) {
    return in_forked_child;
}

// Runs cli_parse_or_exit in a child process; returns its exit status and what
// it printed on stdout and stderr (each cut to 4095 bytes).
static int run_parse_or_exit(char **argv, char out_text[4096], char err_text[4096]) {
    int argc = 0;
    while (argv[argc] != NULL) argc++;
    FILE *out_file = tmpfile(), *err_file = tmpfile();
    cr_assert(out_file != NULL && err_file != NULL);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        in_forked_child = 1;
        dup2(fileno(out_file), STDOUT_FILENO);
        dup2(fileno(err_file), STDERR_FILENO);
        cli_parse_or_exit(argc, argv, "Cuts images into patches.", options, OPTION_COUNT);
        _exit(99); // returned instead of exiting
    }
    int status;
    waitpid(pid, &status, 0);
    FILE *files[2] = {out_file, err_file};
    char *texts[2] = {out_text, err_text};
    for (int k = 0; k < 2; k++) {
        rewind(files[k]);
        size_t n = fread(texts[k], 1, 4095, files[k]);
        texts[k][n] = '\0';
        fclose(files[k]);
    }
    cr_assert(WIFEXITED(status), "the child did not exit normally (status 0x%x)", status);
    return WEXITSTATUS(status);
}

Test(cli, parse_or_exit_prints_usage_on_stdout_for_help) {
    char out_text[4096], err_text[4096];
    int status =
        run_parse_or_exit((char *[]){"build/ch01_patches", "--help", NULL}, out_text, err_text);
    cr_assert_eq(status, 0);
    expect_mentions(out_text, "ch01_patches");
    expect_mentions(out_text, "--patch");
    cr_assert_str_empty(err_text, "stderr: \"%s\"", err_text);
}

Test(cli, parse_or_exit_says_one_line_naming_program_and_flag_on_stderr) {
    char out_text[4096], err_text[4096];
    int status = run_parse_or_exit((char *[]){"build/ch01_patches", "--patch", "99", NULL},
                                   out_text, err_text);
    cr_assert_eq(status, 2);
    cr_assert_str_empty(out_text, "stdout: \"%s\"", out_text);
    cr_assert(strncmp(err_text, "ch01_patches: ", 14) == 0, "stderr: \"%s\"", err_text);
    expect_mentions(err_text, "--patch");
    char *newline = strchr(err_text, '\n');
    cr_assert(newline != NULL && newline[1] == '\0', "not exactly one line: \"%s\"", err_text);
}

Test(cli, usage_lists_every_option_with_help_and_default) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cli_print_usage(f, "ch01_patches", "Cuts images into patches.", options, OPTION_COUNT);
    fclose(f);
    expect_mentions(text, "ch01_patches");
    expect_mentions(text, "Cuts images into patches.");
    for (int i = 0; i < OPTION_COUNT; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", options[i].name);
        expect_mentions(text, flag);
        expect_mentions(text, options[i].help);
    }
    expect_mentions(text, "--help");
    expect_mentions(text, "--out DIR");    // the value's name when the option gives one
    expect_mentions(text, "4");            // patch's default
    expect_mentions(text, "0.001");        // lr's default
    expect_mentions(text, "figures/ch01"); // out's default
    free(text);
}

// ---- the options every chapter shares ----------------------------------------

Test(cli, shared_options_parse_data_index_and_out) {
    const char *data_dir = NULL, *out_dir = "figures/ch01";
    int index = 0;
    CliOption shared[] = {fashion_mnist_data_option(&data_dir),
                          cli_index_option(&index, "which image"), cli_out_option(&out_dir)};
    const char *args[] = {"prog", "--data", "/d", "--index", "9999", "--out", "/o", NULL};
    Error err;
    cr_assert_eq(cli_parse(7, (char **)args, shared, 3, &err), CLI_OK, "%s", err.message);
    cr_assert_str_eq(data_dir, "/d");
    cr_assert_eq(index, 9999);
    cr_assert_str_eq(out_dir, "/o");
    expect_bad(
        cli_parse(3, (char **)(const char *[]){"prog", "--index", "-1", NULL}, shared, 3, &err),
        &err, "--index");
    expect_mentions(shared[0].help, "FASHION_MNIST_DIR");
    cr_assert_str_eq(shared[1].help, "which image");
}

Test(cli, check_or_exit_returns_when_the_check_passed) {
    cli_check_or_exit(true, "ch01_patches", "patch", 7, NULL);
}

Test(cli, check_or_exit_exits_2_when_the_check_failed, .exit_code = 2) {
    Error err;
    error_set(&err, "patch size 5 does not divide the 28x28 image into whole patches");
    cr_redirect_stderr();
    cli_check_or_exit(false, "ch01_patches", "patch", 5, &err);
    cr_assert_fail("cli_check_or_exit returned after a failed check");
}

Test(cli, program_name_drops_the_directory) {
    cr_assert_str_eq(cli_program_name("build/ch01_patches"), "ch01_patches");
    cr_assert_str_eq(cli_program_name("/a/b/ch02_embedding"), "ch02_embedding");
    cr_assert_str_eq(cli_program_name("ch03"), "ch03");
}
