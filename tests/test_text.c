// test_text.c — numbers written for people.
#include <criterion/criterion.h>
#include "text.h"

Test(text, commas_between_groups_of_three_digits) {
    char buf[32];
    cr_assert_str_eq(text_with_commas(0, buf, sizeof buf), "0");
    cr_assert_str_eq(text_with_commas(999, buf, sizeof buf), "999");
    cr_assert_str_eq(text_with_commas(1000, buf, sizeof buf), "1,000");
    cr_assert_str_eq(text_with_commas(86567656, buf, sizeof buf), "86,567,656");
    cr_assert_str_eq(text_with_commas(72900000000.0, buf, sizeof buf), "72,900,000,000");
    cr_assert_str_eq(text_with_commas(1234.6, buf, sizeof buf), "1,235", "rounded");
}

Test(text, the_sign_is_not_a_digit) {
    char buf[32];
    cr_assert_str_eq(text_with_commas(-123456, buf, sizeof buf), "-123,456");
    cr_assert_str_eq(text_with_commas(-123, buf, sizeof buf), "-123");
}

Test(text, a_small_buffer_cuts_the_number_short) {
    char buf[5];
    cr_assert_str_eq(text_with_commas(1234567, buf, sizeof buf), "1,23");
}
