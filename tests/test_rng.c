// test_rng.c — the PCG32 generator against the reference algorithm and its
// published outputs, and the statistics of every distribution built on it.
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "rng.h"

// ---- an independent PCG32 (O'Neill's pcg32_random_r / pcg32_srandom_r) -----

typedef struct {
    uint64_t state, inc;
} RefPcg;

static uint32_t ref_next(RefPcg *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

static void ref_seed(RefPcg *r, uint64_t initstate, uint64_t initseq) {
    r->state = 0;
    r->inc = (initseq << 1) | 1u;
    ref_next(r);
    r->state += initstate;
    ref_next(r);
}

// ---- the generator ------------------------------------------------------------

Test(rng, seed_42_gives_the_published_pcg32_outputs) {
    // pcg32-demo (pcg32_srandom_r(&rng, 42, 54)) prints these first six values
    const uint32_t published[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                   0x83d2f293, 0xbfa4784b, 0xcbed606e};
    Rng rng;
    rng_seed(&rng, 42);
    for (int i = 0; i < 6; i++) {
        uint32_t got = rng_u32(&rng);
        cr_assert_eq(got, published[i], "draw %d: got 0x%08x, want 0x%08x", i, got, published[i]);
    }
}

Test(rng, matches_the_reference_algorithm_for_many_draws_and_seeds) {
    const uint64_t seeds[] = {0, 1, 42, 1234567, 0xdeadbeefcafef00dULL};
    for (int s = 0; s < 5; s++) {
        Rng rng;
        RefPcg ref;
        rng_seed(&rng, seeds[s]);
        ref_seed(&ref, seeds[s], 54);
        for (int i = 0; i < 1000; i++) {
            uint32_t got = rng_u32(&rng), want = ref_next(&ref);
            cr_assert_eq(got, want, "seed %llu, draw %d: got 0x%08x, want 0x%08x",
                         (unsigned long long)seeds[s], i, got, want);
        }
    }
}

Test(rng, same_seed_gives_the_same_sequence) {
    Rng a, b;
    rng_seed(&a, 7);
    rng_seed(&b, 7);
    for (int i = 0; i < 1000; i++) cr_assert_eq(rng_u32(&a), rng_u32(&b), "draw %d", i);
}

Test(rng, different_seeds_give_different_sequences) {
    Rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 100; i++) same += rng_u32(&a) == rng_u32(&b);
    cr_assert_lt(same, 3, "seeds 1 and 2 agree on %d of 100 draws", same);
}

Test(rng, u32_uses_all_bits) {
    Rng rng;
    rng_seed(&rng, 3);
    uint32_t any_or = 0, all_and = 0xffffffffu;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = rng_u32(&rng);
        any_or |= x;
        all_and &= x;
    }
    cr_assert_eq(any_or, 0xffffffffu, "some bit is never set: 0x%08x", any_or);
    cr_assert_eq(all_and, 0u, "some bit is always set: 0x%08x", all_and);
}

// ---- uniform ----------------------------------------------------------------

Test(rng, uniform_is_in_0_1_with_mean_one_half_and_variance_one_twelfth) {
    Rng rng;
    rng_seed(&rng, 42);
    int n = 100000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        float u = rng_uniform(&rng);
        cr_assert(u >= 0.0f && u < 1.0f, "draw %d: %.9g is outside [0, 1)", i, u);
        sum += u;
        sum2 += (double)u * u;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    // standard error of the mean: sqrt(1/12 / 1e5) = 0.0009
    cr_assert(fabs(mean - 0.5) < 0.005, "mean %.5f, want 0.5", mean);
    cr_assert(fabs(var - 1.0 / 12) < 0.002, "variance %.5f, want %.5f", var, 1.0 / 12);
}

// A state whose next output is 0xffffffff: rot = old >> 59 = 0 and bits 27..58
// of (old >> 18) ^ old all ones, solved from the top bit down.
static uint64_t state_giving_all_ones(void) {
    uint64_t s = 0;
    for (int k = 58; k >= 27; k--) {
        uint64_t above = k + 18 < 64 ? (s >> (k + 18)) & 1 : 0;
        s |= (1 ^ above) << k;
    }
    return s;
}

Test(rng, uniform_stays_below_1_for_the_largest_u32) {
    RefPcg ref = {state_giving_all_ones(), 109};
    cr_assert_eq(ref_next(&ref), 0xffffffffu, "the crafted state is wrong");
    Rng rng = {.state = state_giving_all_ones(), .stream = 109};
    float u = rng_uniform(&rng);
    cr_assert_lt(u, 1.0f, "rng_uniform gave %.9g for the draw 0xffffffff", u);
}

Test(rng, fill_uniform_covers_lo_to_hi) {
    Rng rng;
    rng_seed(&rng, 5);
    int n = 100000;
    float *x = malloc(n * sizeof *x);
    rng_fill_uniform(&rng, x, n, -3.0f, 5.0f);
    double sum = 0;
    float lo = x[0], hi = x[0];
    for (int i = 0; i < n; i++) {
        cr_assert(x[i] >= -3.0f && x[i] < 5.0f, "x[%d] = %g is outside [-3, 5)", i, x[i]);
        sum += x[i];
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    free(x);
    cr_assert(fabs(sum / n - 1.0) < 0.04, "mean %.4f, want 1", sum / n);
    cr_assert(lo < -2.99f && hi > 4.99f, "range [%g, %g] does not reach the ends", lo, hi);
}

// ---- normal -----------------------------------------------------------------

static void mean_and_std(const float *x, int n, double *mean, double *std) {
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    *mean = sum / n;
    for (int i = 0; i < n; i++) sum2 += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(sum2 / n);
}

Test(rng, normal_has_mean_0_std_1_and_normal_tails) {
    Rng rng;
    rng_seed(&rng, 42);
    int n = 100000, beyond_2 = 0;
    float *x = malloc(n * sizeof *x);
    for (int i = 0; i < n; i++) {
        x[i] = rng_normal(&rng);
        cr_assert(isfinite(x[i]), "draw %d is %g", i, x[i]);
        beyond_2 += fabsf(x[i]) > 2.0f;
    }
    double mean, std;
    mean_and_std(x, n, &mean, &std);
    free(x);
    cr_assert(fabs(mean) < 0.015, "mean %.5f, want 0", mean);
    cr_assert(fabs(std - 1.0) < 0.015, "std %.5f, want 1", std);
    // P(|z| > 2) = 0.0455 for a normal; a uniform with std 1 would give 0
    double tail = (double)beyond_2 / n;
    cr_assert(fabs(tail - 0.0455) < 0.004, "P(|z| > 2) = %.4f, want 0.0455", tail);
}

Test(rng, normal_is_finite_when_a_draw_is_zero) {
    // state 0 makes the next u32 exactly 0, the log(0) trap of Box–Muller
    RefPcg ref = {0, 109};
    cr_assert_eq(ref_next(&ref), 0u);
    Rng rng = {.state = 0, .stream = 109};
    float z = rng_normal(&rng);
    cr_assert(isfinite(z), "rng_normal gave %g after a zero draw", z);
}

Test(rng, fill_normal_has_the_asked_mean_and_std) {
    Rng rng;
    rng_seed(&rng, 9);
    int n = 100000;
    float *x = malloc(n * sizeof *x);
    rng_fill_normal(&rng, x, n, 2.0f, 0.5f);
    double mean, std;
    mean_and_std(x, n, &mean, &std);
    free(x);
    cr_assert(fabs(mean - 2.0) < 0.01, "mean %.5f, want 2", mean);
    cr_assert(fabs(std - 0.5) < 0.01, "std %.5f, want 0.5", std);
}

// ---- truncated normal ------------------------------------------------------------

static double phi(double z) {
    return exp(-0.5 * z * z) / 2.5066282746310002;
} // density (sqrt(2 pi))
static double Phi(double z) {
    return 0.5 * (1.0 + erf(z / sqrt(2.0)));
} // distribution

// Mean and std of Normal(0, 1) conditioned on [a, b] (Johnson, Kotz, Balakrishnan).
static void trunc_theory(double a, double b, double *mean, double *std) {
    double Z = Phi(b) - Phi(a);
    *mean = (phi(a) - phi(b)) / Z;
    double var = 1.0 + (a * phi(a) - b * phi(b)) / Z - *mean * *mean;
    *std = sqrt(var);
}

static void check_trunc_normal(uint64_t seed, float std, float lo, float hi) {
    Rng rng;
    rng_seed(&rng, seed);
    int n = 100000;
    float *x = malloc(n * sizeof *x);
    rng_fill_trunc_normal(&rng, x, n, std, lo, hi);
    for (int i = 0; i < n; i++)
        cr_assert(x[i] >= lo && x[i] <= hi, "x[%d] = %g is outside [%g, %g]", i, x[i], lo, hi);
    double mean, got_std, want_mean, want_std;
    mean_and_std(x, n, &mean, &got_std);
    free(x);
    trunc_theory(lo / std, hi / std, &want_mean, &want_std);
    want_mean *= std;
    want_std *= std;
    cr_assert(fabs(mean - want_mean) < 0.01 * std, "[%g, %g], std %g: mean %.6f, want %.6f", lo, hi,
              std, mean, want_mean);
    cr_assert(fabs(got_std - want_std) < 0.01 * std, "[%g, %g], std %g: std %.6f, want %.6f", lo,
              hi, std, got_std, want_std);
}

Test(rng, trunc_normal_like_vit_init_stays_in_bounds_with_the_theoretical_std) {
    // std 0.02 cut at +-2 std: the spread is 0.8796 * 0.02, less than a plain normal
    check_trunc_normal(42, 0.02f, -0.04f, 0.04f);
}

Test(rng, trunc_normal_one_sided_has_the_theoretical_mean) {
    // Normal(0, 1) on [0, 3]: mean 0.7912, std 0.5923 (a clamp would give other values)
    check_trunc_normal(43, 1.0f, 0.0f, 3.0f);
}

Test(rng, trunc_normal_bounds_must_contain_zero, .signal = SIGABRT, .init = cr_redirect_stderr) {
    // rng.h: requires lo <= 0 <= hi (rejection from Normal(0, std) would crawl far out)
    Rng rng;
    rng_seed(&rng, 44);
    rng_trunc_normal(&rng, 1.0f, 1.0f, 2.0f);
}

// ---- integers, shuffles, permutations -----------------------------------------

Test(rng, int_of_1_is_always_0) {
    Rng rng;
    rng_seed(&rng, 1);
    for (int i = 0; i < 100; i++) cr_assert_eq(rng_int(&rng, 1), 0);
}

Test(rng, int_hits_every_value_of_a_small_range_equally) {
    Rng rng;
    rng_seed(&rng, 42);
    enum { n = 7, draws = 70000 };
    int counts[n] = {0};
    for (int i = 0; i < draws; i++) {
        int k = rng_int(&rng, n);
        cr_assert(k >= 0 && k < n, "draw %d: %d is outside [0, %d)", i, k, n);
        counts[k]++;
    }
    double chi2 = 0;
    for (int k = 0; k < n; k++) chi2 += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    // chi-square with 6 degrees of freedom: P(> 22.5) = 0.001
    cr_assert_lt(chi2, 22.5, "counts far from uniform: chi2 = %.1f", chi2);
}

Test(rng, int_has_no_modulo_bias_for_a_large_range) {
    // n = 1.5e9: u32 % n would make [0, 2^32 - 2n) = [0, 1294967296) 1.5 times as
    // likely, so P(k < 1294967296) would be 0.9045 instead of 0.8633
    Rng rng;
    rng_seed(&rng, 42);
    int n = 1500000000, draws = 100000, low = 0;
    for (int i = 0; i < draws; i++) {
        int k = rng_int(&rng, n);
        cr_assert(k >= 0 && k < n, "draw %d: %d is outside [0, %d)", i, k, n);
        low += k < 1294967296;
    }
    double p = (double)low / draws;
    cr_assert(fabs(p - 1294967296.0 / n) < 0.006, "P(k < 1294967296) = %.4f, want %.4f", p,
              1294967296.0 / n);
}

static void expect_permutation(const int *x, int n) {
    int *seen = calloc(n > 0 ? n : 1, sizeof *seen);
    for (int i = 0; i < n; i++) {
        cr_assert(x[i] >= 0 && x[i] < n, "x[%d] = %d is outside [0, %d)", i, x[i], n);
        cr_assert_eq(seen[x[i]], 0, "%d appears twice (again at x[%d])", x[i], i);
        seen[x[i]] = 1;
    }
    free(seen);
}

Test(rng, permutation_is_a_permutation_and_not_the_identity) {
    Rng rng;
    rng_seed(&rng, 42);
    int x[1000];
    rng_permutation(&rng, x, 1000);
    expect_permutation(x, 1000);
    int fixed = 0;
    for (int i = 0; i < 1000; i++) fixed += x[i] == i;
    cr_assert_lt(fixed, 10, "%d of 1000 items stayed in place (about 1 expected)", fixed);
}

Test(rng, permutation_of_0_and_1_items) {
    Rng rng;
    rng_seed(&rng, 1);
    int x[1] = {-5};
    rng_permutation(&rng, x, 0);
    cr_assert_eq(x[0], -5, "n = 0 wrote into the array");
    rng_permutation(&rng, x, 1);
    cr_assert_eq(x[0], 0);
}

Test(rng, permutations_from_different_seeds_differ) {
    Rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    int x[100], y[100];
    rng_permutation(&a, x, 100);
    rng_permutation(&b, y, 100);
    int same = 0;
    for (int i = 0; i < 100; i++) same += x[i] == y[i];
    cr_assert_lt(same, 10, "the permutations agree in %d of 100 places", same);
}

Test(rng, shuffle_is_deterministic_and_keeps_the_items) {
    int x[50], y[50], count_x[10] = {0}, count_y[10] = {0};
    for (int i = 0; i < 50; i++) x[i] = y[i] = i % 10; // with repeats
    Rng a, b;
    rng_seed(&a, 11);
    rng_seed(&b, 11);
    rng_shuffle(&a, x, 50);
    rng_shuffle(&b, y, 50);
    expect_ints_equal("shuffle with the same seed", x, y, 50);
    for (int i = 0; i < 50; i++) {
        count_x[x[i]]++;
        count_y[i % 10]++;
    }
    expect_ints_equal("how often each item occurs", count_x, count_y, 10);
}

Test(rng, shuffle_makes_every_order_of_3_equally_likely) {
    // the classic mistake (swap with any position, not only 0..i) is biased
    Rng rng;
    rng_seed(&rng, 42);
    int counts[3][3][3] = {{{0}}};
    for (int t = 0; t < 60000; t++) {
        int x[3] = {0, 1, 2};
        rng_shuffle(&rng, x, 3);
        expect_permutation(x, 3);
        counts[x[0]][x[1]][x[2]]++;
    }
    const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        int c = counts[orders[o][0]][orders[o][1]][orders[o][2]];
        // 10000 expected, standard deviation 91
        cr_assert(abs(c - 10000) < 450, "order %d%d%d came %d times of 60000, want about 10000",
                  orders[o][0], orders[o][1], orders[o][2], c);
    }
}
