// parallel.h — where a loop of the library shares its iterations among the
// threads, and which part is each thread's.
//
// The layers' loops (rows of a LayerNorm, elements of a GELU, heads of attention)
// are shared among OpenMP's threads when they are called from serial code. Called
// from inside a parallel region, where each thread already runs the whole model
// on its own slice of a batch (src/slices.h), they run on the calling thread
// alone, and then they must not enter a parallel construct at all: libgomp starts
// and ends a team even for one thread (or with an if clause that is false), and
// ends it with a system call, a few hundred of them a training step.
//
// The other way round, a model's region over the slices of a batch is entered only
// with two slices or more: inside a region of one thread (num_threads(1), or an if
// clause that is false) every layer's region is a nested one, and libgomp creates
// a nested team's threads anew each time, hundreds of thread creations for one
// image through ViT-B/16. A single slice runs outside any region, and its layers
// share their loops among the threads as above.
//
//     if (!parallel_worth()) {         // one thread: the whole loop, here
//         rows(out, x, 0, R);
//         return;
//     }
//     #pragma omp parallel
//     {
//         size_t lo, hi;
//         parallel_share(R, &lo, &hi); // this thread's part: lo .. hi-1
//         rows(out, x, lo, hi);
//     }
#ifndef PARALLEL_H
#define PARALLEL_H

#include <omp.h>
#include <stdbool.h>
#include <stddef.h>

// Whether a loop here should start threads: outside any parallel region, with
// more than one thread to start.
static inline bool parallel_worth(void) {
    return !omp_in_parallel() && omp_get_max_threads() > 1;
}

// Inside a parallel region: this thread's iterations lo .. hi-1 of 0 .. n-1, in
// contiguous parts of near-equal size, in thread order.
static inline void parallel_share(size_t n, size_t *lo, size_t *hi) {
    size_t id = (size_t)omp_get_thread_num(), threads = (size_t)omp_get_num_threads();
    *lo = n * id / threads;
    *hi = n * (id + 1) / threads;
}

#endif
