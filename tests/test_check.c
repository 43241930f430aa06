// test_check.c — the comparison helper every suite relies on: it must find the
// first differing index and the largest difference, and never pass a NaN.
#include <math.h>
#include <criterion/criterion.h>
#include "check.h"

Test(check, equal_arrays_have_no_bad_values) {
    const float a[3] = {1, 2, 3};
    ArrayDiff d = diff_floats(a, a, 3, 0, 0);
    cr_assert_eq(d.bad, 0);
    cr_assert_eq(d.first, -1);
    cr_assert_eq(d.max_diff, 0.0);
}

Test(check, reports_the_first_differing_index_and_the_largest_difference) {
    const float got[5] = {1, 2.5f, 3, 7, 5}, want[5] = {1, 2, 3, 4, 5};
    ArrayDiff d = diff_floats(got, want, 5, 0.1, 0);
    cr_assert_eq(d.bad, 2);
    cr_assert_eq(d.first, 1);
    cr_assert(d.first_got == 2.5 && d.first_want == 2.0);
    cr_assert_eq(d.worst, 3);
    cr_assert_eq(d.max_diff, 3.0);
}

Test(check, tolerance_is_absolute_plus_relative) {
    const float got[2] = {1001, 1.5f}, want[2] = {1000, 1};
    cr_assert_eq(diff_floats(got, want, 2, 0.4, 0).bad, 2);
    ArrayDiff d = diff_floats(got, want, 2, 0.4, 0.001); // 0.4 + 1: 1001 passes, 1.5 does not
    cr_assert_eq(d.bad, 1);
    cr_assert_eq(d.first, 1);
}

Test(check, nan_matches_only_nan_and_infinity_only_itself) {
    const float got[4] = {NAN, 1, INFINITY, NAN}, want[4] = {1, NAN, INFINITY, NAN};
    ArrayDiff d = diff_floats(got, want, 4, 1e30, 0);
    cr_assert_eq(d.bad, 2, "%ld bad", d.bad);
    cr_assert_eq(d.first, 0);
    cr_assert(isinf(d.max_diff), "a NaN mismatch is an infinite difference, got %g", d.max_diff);
    const float inf_got[1] = {INFINITY}, inf_want[1] = {-INFINITY};
    cr_assert_eq(diff_floats(inf_got, inf_want, 1, 1e30, 0).bad, 1);
}

Test(check, bytes_and_ints_compare_exactly) {
    const unsigned char a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
    ArrayDiff d = diff_bytes(a, b, 3);
    cr_assert(d.bad == 1 && d.first == 2 && d.max_diff == 1.0);
    const int x[2] = {5, -5}, y[2] = {5, 5};
    d = diff_ints(x, y, 2);
    cr_assert(d.bad == 1 && d.first == 1 && d.max_diff == 10.0);
}
