// test_narrate.c — the chapter programs' shared helpers: the exit on an
// outside failure (status 1, one line naming the program) and the numbers
// quoted about arrays.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "narrate.h"

// ---- narrate_check ---------------------------------------------------------------

Test(narrate, check_returns_quietly_when_ok, .init = cr_redirect_stderr) {
    narrate_check(true, "ch01_patches", NULL);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

// stderr goes to this file in the exit test below; the handler reads it back
// as the process exits.
static FILE *stderr_copy;

// Runs at narrate_check's exit: unless stderr got exactly the one line, the
// exit status becomes 3, which fails the test (it expects 1).
static void expect_one_line_at_exit(void) {
    char text[256] = "";
    fflush(stderr);
    rewind(stderr_copy);
    size_t n = fread(text, 1, sizeof text - 1, stderr_copy);
    text[n] = '\0';
    if (strcmp(text, "ch01_patches: figures/ch01: cannot create directory\n") != 0) _exit(3);
}

Test(narrate, check_exits_1_with_one_line_naming_the_program, .exit_code = 1) {
    stderr_copy = tmpfile();
    cr_assert(stderr_copy != NULL);
    cr_assert_neq(dup2(fileno(stderr_copy), STDERR_FILENO), -1);
    cr_assert_eq(atexit(expect_one_line_at_exit), 0);
    Error err;
    error_set(&err, "figures/ch01: cannot create directory");
    narrate_check(false, "ch01_patches", &err);
    _exit(4); // returned instead of exiting
}

// ---- numbers about arrays ------------------------------------------------------------

Test(narrate, max_abs_difference_is_the_largest_gap_either_way) {
    float a[4] = {1.0f, -2.0f, 3.0f, 0.5f}, b[4] = {1.0f, 2.5f, 2.0f, 0.5f};
    cr_assert_float_eq(narrate_max_abs_difference(a, b, 4), 4.5f, 0.0f);
    cr_assert_float_eq(narrate_max_abs_difference(b, a, 4), 4.5f, 0.0f);
    cr_assert_float_eq(narrate_max_abs_difference(a, a, 4), 0.0f, 0.0f);
    cr_assert_float_eq(narrate_max_abs_difference(a, b, 1), 0.0f, 0.0f, "only the first");
    cr_assert_float_eq(narrate_max_abs_difference(a, b, 0), 0.0f, 0.0f, "nothing to compare");
}

Test(narrate, mean_and_std_over_n) {
    float x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    cr_assert_float_eq(narrate_mean(x, 4), 2.5, 1e-12);
    cr_assert_float_eq(narrate_std(x, 4), sqrt(1.25), 1e-12, "over n, not n - 1");
    float same[3] = {-7.0f, -7.0f, -7.0f};
    cr_assert_float_eq(narrate_mean(same, 3), -7.0, 0.0);
    cr_assert_float_eq(narrate_std(same, 3), 0.0, 0.0);
}

Test(narrate, mean_and_std_sum_in_double) {
    enum { n = 1 << 20 };
    float *x = malloc(sizeof(float) * n); // (n): 1e4 and 1e4 + 1 alternating
    for (int i = 0; i < n; i++) x[i] = 10000.0f + (float)(i % 2);
    cr_assert_float_eq(narrate_mean(x, n), 10000.5, 1e-9, "a float sum would drift");
    cr_assert_float_eq(narrate_std(x, n), 0.5, 1e-9);
    free(x);
}

Test(narrate, argmax_takes_the_first_of_equal_largest_values) {
    float x[5] = {-3.0f, 2.0f, -1.0f, 2.0f, 1.0f};
    cr_assert_eq(narrate_argmax(x, 5), 1);
    cr_assert_eq(narrate_argmax(x, 1), 0);
    float negative[3] = {-5.0f, -0.5f, -2.0f};
    cr_assert_eq(narrate_argmax(negative, 3), 1);
}
