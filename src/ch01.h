// ch01.h — everything chapter 01 may use: the foundations (errors, files,
// random numbers, command line, data, pictures, plots, numbers as text, the
// chapter programs' shared narration helpers) and patches.
#ifndef CH01_H
#define CH01_H

#include "cli.h"
#include "colormap.h"
#include "error.h"
#include "fashion_mnist.h"
#include "files.h"
#include "idx.h"
#include "image.h"
#include "narrate.h"
#include "patch.h"
#include "plot.h"
#include "rng.h"
#include "text.h"

#endif
