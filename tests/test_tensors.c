// test_tensors.c — named tensors in one allocation: the layout (back to back,
// in the order added), every slot set, the memory zeroed, names printf-style,
// lookup by name.
#include <signal.h>
#include <stdint.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "tensors.h"

Test(tensors, lays_tensors_out_back_to_back_in_the_order_added) {
    Tensors t;
    tensors_init(&t);
    float *weight, *bias, *pos;
    tensors_add(&t, &weight, 2, (int[]){5, 3}, "proj.weight");
    tensors_add(&t, &bias, 1, (int[]){5}, "proj.bias");
    tensors_add(&t, &pos, 3, (int[]){1, 4, 5}, "pos_embedding");
    cr_assert_eq(t.count, 3);
    cr_assert_eq(t.total, 15 + 5 + 20);
    cr_assert_eq(t.entries[0].offset, 0);
    cr_assert_eq(t.entries[1].offset, 15);
    cr_assert_eq(t.entries[2].offset, 20);
    cr_assert_eq(t.entries[2].count, 20);
    cr_assert_eq(t.entries[2].ndim, 3);
    cr_assert_eq(t.entries[2].shape[1], 4);
    tensors_alloc(&t);
    cr_assert_eq(weight, t.memory);
    cr_assert_eq(bias, t.memory + 15);
    cr_assert_eq(pos, t.memory + 20);
    tensors_free(&t);
}

Test(tensors, memory_starts_zeroed_and_every_float_is_writable) {
    Tensors t;
    tensors_init(&t);
    float *a, *b;
    tensors_add(&t, &a, 2, (int[]){7, 9}, "a");
    tensors_add(&t, &b, 4, (int[]){2, 3, 4, 5}, "b");
    tensors_alloc(&t);
    for (size_t i = 0; i < t.total; i++) cr_assert_eq(t.memory[i], 0.0f, "memory[%zu]", i);
    for (size_t i = 0; i < t.total; i++) t.memory[i] = (float)i; // ASan catches any overrun
    cr_assert_eq(b[0], 63.0f);
    cr_assert_eq(b[119], 182.0f);
    tensors_free(&t);
    cr_assert_null(t.memory);
    cr_assert_null(t.entries);
}

Test(tensors, grows_past_its_first_capacity_and_keeps_every_slot) {
    enum { L = 100 };
    Tensors t;
    tensors_init(&t);
    float *w[L], *b[L];
    for (int l = 0; l < L; l++) {
        tensors_add(&t, &w[l], 2, (int[]){l + 1, 2}, "layers.%d.weight", l);
        tensors_add(&t, &b[l], 1, (int[]){l + 1}, "layers.%d.bias", l);
    }
    tensors_alloc(&t);
    cr_assert_eq(t.count, 2 * L);
    cr_assert_eq(t.total, (size_t)3 * L * (L + 1) / 2);
    for (int l = 0; l < L; l++) {
        cr_assert_eq(b[l], w[l] + 2 * (l + 1), "layer %d: bias right after weight", l);
        if (l > 0) cr_assert_eq(w[l], b[l - 1] + l, "layer %d: weight right after last bias", l);
    }
    cr_assert_eq(b[L - 1] + L, t.memory + t.total, "the last tensor ends the allocation");
    tensors_free(&t);
}

Test(tensors, names_are_printf_style_and_found_exactly) {
    Tensors t;
    tensors_init(&t);
    float *x, *y;
    tensors_add(&t, &x, 1, (int[]){3}, "encoder.layers.encoder_layer_%d.ln_%d.weight", 11, 2);
    tensors_add(&t, &y, 1, (int[]){4}, "class_token");
    tensors_alloc(&t);
    const TensorEntry *e = tensors_find(&t, "encoder.layers.encoder_layer_11.ln_2.weight");
    cr_assert_not_null(e);
    cr_assert_eq(*e->slot, x);
    cr_assert_eq(e->count, 3);
    cr_assert_eq(tensors_find(&t, "class_token")->offset, 3);
    cr_assert_null(tensors_find(&t, "class"), "a prefix is not a match");
    cr_assert_null(tensors_find(&t, "class_token.x"));
    cr_assert_null(tensors_find(&t, ""));
    tensors_free(&t);
}

Test(tensors, an_empty_list_allocates_and_frees) {
    Tensors t;
    tensors_init(&t);
    tensors_alloc(&t);
    cr_assert_eq(t.total, 0);
    cr_assert_null(tensors_find(&t, "anything"));
    tensors_free(&t);
}

Test(tensors, the_same_name_twice_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    Tensors t;
    tensors_init(&t);
    float *a, *b;
    tensors_add(&t, &a, 1, (int[]){2}, "head.weight");
    tensors_add(&t, &b, 1, (int[]){2}, "head.%s", "weight");
}

Test(tensors, adding_after_alloc_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    Tensors t;
    tensors_init(&t);
    float *a, *b;
    tensors_add(&t, &a, 1, (int[]){2}, "a");
    tensors_alloc(&t);
    tensors_add(&t, &b, 1, (int[]){2}, "b");
}

Test(tensors, a_zero_dimension_is_a_programmer_error, .signal = SIGABRT,
     .init = cr_redirect_stderr) {
    Tensors t;
    tensors_init(&t);
    float *a;
    tensors_add(&t, &a, 2, (int[]){3, 0}, "a");
}
