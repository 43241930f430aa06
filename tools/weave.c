// weave.c — makes the docs pages literate: a page names a region of the real,
// compiled code (or the output a chapter printed) and weave copies it in, so the
// prose can never drift from the code. pandoc then turns the woven page to HTML.
//
//   build/weave check DOC.md...       report every problem in the pages and sources
//   build/weave expand IN.md OUT.md   write IN with its directives expanded to OUT
//   build/weave --help                this summary
//
// Run it from the top of the repository: the paths in pages and messages are
// relative to it. Build: cc -std=c11 -D_POSIX_C_SOURCE=200809L tools/weave.c
//
// REGIONS. In a source file, a region is the lines between two marker lines,
// each alone on its line (leading whitespace allowed):
//
//     // region: NAME
//     ...
//     // endregion: NAME
//
// NAME is one word, unique within its file. Regions may nest; an endregion
// must close the innermost open region. A region as shown in a page loses the
// marker lines of any region nested in it, its blank lines at either end, and
// the indentation common to all its lines.
//
// DIRECTIVES. In a page, a directive is a line that starts with @ in column 1
// (outside fenced code blocks, whose lines pass through untouched):
//
//     @include PATH NAME   region NAME of the file PATH, as a listing:
//                              ::: {.listing}
//                              [src/patch.c, lines 12–40]{.listing-name}
//
//                              ```c
//                              ...the region...
//                              ```
//                              :::
//     @output PROGRAM      build/out/PROGRAM.txt, what `make figures` captured
//                          from build/PROGRAM, as a ::: {.output} div with the
//                          caption [output of build/PROGRAM]{.output-name}
//                          and a ```text block.
//
// Every other line passes through unchanged. docs/style.css styles the classes.
//
// CHECK loads every src/, chapters/ and tests/ file ending in .c or .h (and
// any other file a page includes), then every page, and prints one line
// `file:line: message` on stderr for each problem: a directive naming a missing
// file, region or output; an unknown directive or one with the wrong number of
// words; a region no page includes; a duplicate region name in a file; a
// region never closed or an endregion that closes nothing or the wrong region;
// a code fence never closed in a page. It prints nothing when all is well.
//
// EXPAND reports the same problems for one page (except unused regions) and
// writes OUT.tmp, renamed to OUT only when there were none.
//
// Exit status: 0 all well, 1 problems found (or a file could not be written),
// 2 a bad command line.

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SOURCE_DIRS[] = {"src", "chapters", "tests"};
static const char *const OUTPUT_DIR = "build/out";

static const char *const USAGE =
    "usage: weave check DOC.md...       report problems in the pages and the code regions\n"
    "       weave expand IN.md OUT.md   write IN with @include and @output expanded to OUT\n"
    "       weave --help                this help\n"
    "\n"
    "In sources (src/ chapters/ tests/, *.c *.h):   // region: NAME  ...  // endregion: NAME\n"
    "In pages:  @include PATH NAME    the region NAME of PATH as a captioned listing\n"
    "           @output PROGRAM       build/out/PROGRAM.txt as a captioned text block\n"
    "Problems go to stderr as file:line: message; exit 1 if any, 2 on a bad command line.\n";

// ---- problems and memory ----------------------------------------------------

static int problems; // how many problems have been reported

// Report one problem as `file:line: message` (line 0: no line number).
#ifdef __GNUC__
__attribute__((format(printf, 3, 4)))
#endif
static void
problem(const char *file, int line, const char *fmt, ...) {
    if (line > 0)
        fprintf(stderr, "%s:%d: ", file, line);
    else
        fprintf(stderr, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    problems++;
}

static void *xrealloc(void *p, size_t size) {
    p = realloc(p, size ? size : 1);
    if (!p) {
        fputs("weave: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static char *xstrndup(const char *s, size_t n) {
    char *copy = xrealloc(NULL, n + 1);
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

// ---- files as lines ---------------------------------------------------------

typedef struct {
    char *name;
    int begin, end; // line numbers of its region: and endregion: markers (end 0: never closed)
    bool included;  // some page includes it
} Region;

typedef struct {
    char *path;
    char *text;   // the whole file, each newline replaced by '\0'
    char **lines; // lines[i] is line i+1, without its newline (or "\r\n")
    int nlines;
    Region *regions;
    int nregions;
} Source;

// Read the whole file at path. Returns NULL with errno set if it cannot be read.
static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *text = xrealloc(NULL, cap);
    for (;;) {
        n += fread(text + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        text = xrealloc(text, cap);
    }
    int error = ferror(f) ? errno : 0;
    fclose(f);
    if (error) {
        free(text);
        errno = error;
        return NULL;
    }
    text[n] = '\0';
    *size = n;
    return text;
}

// Read path into s, split into lines. Returns false with errno set on failure.
static bool read_lines(Source *s, const char *path) {
    size_t size;
    char *text = read_file(path, &size);
    if (!text) return false;
    *s = (Source){.path = xstrndup(path, strlen(path)), .text = text};
    int cap = 0;
    for (char *line = text; line < text + size;) {
        char *newline = memchr(line, '\n', (size_t)(text + size - line));
        char *end = newline ? newline : text + size;
        *end = '\0';
        if (end > line && end[-1] == '\r') end[-1] = '\0';
        if (s->nlines == cap) {
            cap = cap ? 2 * cap : 256;
            s->lines = xrealloc(s->lines, (size_t)cap * sizeof *s->lines);
        }
        s->lines[s->nlines++] = line;
        line = end + 1;
    }
    return true;
}

static void source_free(Source *s) {
    for (int i = 0; i < s->nregions; i++) free(s->regions[i].name);
    free(s->regions);
    free(s->lines);
    free(s->text);
    free(s->path);
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static bool is_blank(const char *line) {
    return *skip_space(line) == '\0';
}

// ---- region markers ---------------------------------------------------------

typedef enum { NOT_MARKER, REGION_BEGIN, REGION_END, BAD_MARKER } Marker;

// What kind of marker line is; for a good one, its name is name[0..*len).
static Marker parse_marker(const char *line, const char **name, size_t *len) {
    const char *p = skip_space(line);
    if (strncmp(p, "//", 2) != 0) return NOT_MARKER;
    p = skip_space(p + 2);
    Marker kind;
    if (strncmp(p, "region:", 7) == 0) {
        kind = REGION_BEGIN;
        p += 7;
    } else if (strncmp(p, "endregion:", 10) == 0) {
        kind = REGION_END;
        p += 10;
    } else {
        return NOT_MARKER;
    }
    *name = skip_space(p);
    *len = strcspn(*name, " \t");
    bool one_word = *len > 0 && is_blank(*name + *len);
    return one_word ? kind : BAD_MARKER;
}

// The first region of s called name[0..len), or NULL.
static Region *find_region(const Source *s, const char *name, size_t len) {
    for (int i = 0; i < s->nregions; i++)
        if (strlen(s->regions[i].name) == len && strncmp(s->regions[i].name, name, len) == 0)
            return &s->regions[i];
    return NULL;
}

static void begin_region(Source *s, const char *name, size_t len, int line) {
    const Region *same = find_region(s, name, len);
    if (same)
        problem(s->path, line, "region '%s' already begins at line %d", same->name, same->begin);
    s->regions = xrealloc(s->regions, (size_t)(s->nregions + 1) * sizeof *s->regions);
    s->regions[s->nregions++] = (Region){.name = xstrndup(name, len), .begin = line};
}

// Close the innermost open region (open[*depth-1], an index into s->regions).
static void end_region(Source *s, const char *name, size_t len, int line, const int *open,
                       int *depth) {
    if (*depth == 0) {
        problem(s->path, line, "endregion '%.*s' has no open region to close", (int)len, name);
        return;
    }
    Region *r = &s->regions[open[--*depth]];
    if (strlen(r->name) != len || strncmp(r->name, name, len) != 0)
        problem(s->path, line, "endregion '%.*s' does not match region '%s' (line %d)", (int)len,
                name, r->name, r->begin);
    r->end = line;
}

// Find the regions of s, reporting badly formed markers.
static void scan_regions(Source *s) {
    int *open = xrealloc(NULL, (size_t)s->nlines * sizeof *open); // stack of open regions
    int depth = 0;
    for (int i = 0; i < s->nlines; i++) {
        const char *name;
        size_t len;
        switch (parse_marker(s->lines[i], &name, &len)) {
        case NOT_MARKER: break;
        case BAD_MARKER:
            problem(s->path, i + 1,
                    "a region marker takes one name: '// region: NAME' or '// endregion: NAME'");
            break;
        case REGION_BEGIN:
            open[depth++] = s->nregions;
            begin_region(s, name, len, i + 1);
            break;
        case REGION_END: end_region(s, name, len, i + 1, open, &depth); break;
        }
    }
    while (depth > 0) {
        const Region *r = &s->regions[open[--depth]];
        problem(s->path, r->begin, "region '%s' is never closed", r->name);
    }
    free(open);
}

// ---- the library: every source file read so far -----------------------------

typedef struct {
    Source *sources;
    int nsources;
} Library;

// The source at path, read and scanned on first use; NULL (errno set) if unreadable.
static Source *library_get(Library *lib, const char *path) {
    while (strncmp(path, "./", 2) == 0) path += 2;
    for (int i = 0; i < lib->nsources; i++)
        if (strcmp(lib->sources[i].path, path) == 0) return &lib->sources[i];
    Source s;
    if (!read_lines(&s, path)) return NULL;
    scan_regions(&s);
    lib->sources = xrealloc(lib->sources, (size_t)(lib->nsources + 1) * sizeof s);
    lib->sources[lib->nsources] = s;
    return &lib->sources[lib->nsources++];
}

static void library_free(Library *lib) {
    for (int i = 0; i < lib->nsources; i++) source_free(&lib->sources[i]);
    free(lib->sources);
}

static bool is_source_name(const char *name) {
    size_t n = strlen(name);
    return name[0] != '.' && n > 2 && name[n - 2] == '.' &&
           (name[n - 1] == 'c' || name[n - 1] == 'h');
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Read every *.c and *.h file in dir (not below it), in name order. A missing dir is fine.
static void library_load_dir(Library *lib, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_source_name(e->d_name)) continue;
        names = xrealloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = xstrndup(e->d_name, strlen(e->d_name));
    }
    closedir(d);
    if (n > 1) qsort(names, (size_t)n, sizeof *names, compare_names);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!library_get(lib, path)) problem(path, 0, "cannot read: %s", strerror(errno));
        free(names[i]);
    }
    free(names);
}

static void report_unused_regions(const Library *lib) {
    for (int i = 0; i < lib->nsources; i++) {
        const Source *s = &lib->sources[i];
        for (int j = 0; j < s->nregions; j++) {
            const Region *r = &s->regions[j];
            bool duplicate = find_region(s, r->name, strlen(r->name)) != r; // reported already
            if (!r->included && !duplicate)
                problem(s->path, r->begin, "region '%s' is never included by any docs page",
                        r->name);
        }
    }
}

// ---- writing listings and outputs -------------------------------------------

// The longest run of backticks in lines[0..n), so a fence can be made longer.
static int longest_backtick_run(char *const *lines, int n) {
    int longest = 0;
    for (int i = 0; i < n; i++)
        for (const char *p = lines[i]; *p;) {
            int run = (int)strspn(p, "`");
            longest = run > longest ? run : longest;
            p += run ? run : 1;
        }
    return longest;
}

// A code fence (three backticks or more) that no line of the block can close.
static void write_fence(FILE *out, char *const *lines, int n, const char *language) {
    int len = longest_backtick_run(lines, n) + 1;
    for (int i = 0; i < (len > 3 ? len : 3); i++) fputc('`', out);
    fprintf(out, "%s\n", language);
}

// text with Markdown's punctuation escaped, so that a path reads literally.
static void write_escaped(FILE *out, const char *text) {
    for (const char *p = text; *p; p++) {
        if (ispunct((unsigned char)*p) && *p != '/' && *p != '.') fputc('\\', out);
        fputc(*p, out);
    }
}

static const char *language_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".c") == 0 || strcmp(dot, ".h") == 0)) return "c";
    return "text";
}

// How many leading spaces and tabs all non-blank lines[0..n) share.
static size_t common_indent(char *const *lines, int n) {
    size_t indent = (size_t)-1;
    for (int i = 0; i < n; i++)
        if (!is_blank(lines[i])) {
            size_t own = (size_t)(skip_space(lines[i]) - lines[i]);
            indent = own < indent ? own : indent;
        }
    return indent == (size_t)-1 ? 0 : indent;
}

// The lines region r shows: no markers, no blank lines at either end. Their
// line numbers go to numbers[]; returns how many (0 for an empty region).
static int region_body(const Source *s, const Region *r, char **body, int *numbers) {
    int n = 0;
    for (int line = r->begin + 1; line < r->end; line++) {
        const char *name;
        size_t len;
        if (parse_marker(s->lines[line - 1], &name, &len) != NOT_MARKER) continue;
        body[n] = s->lines[line - 1];
        numbers[n++] = line;
    }
    int first = 0;
    while (first < n && is_blank(body[first])) first++;
    while (n > first && is_blank(body[n - 1])) n--;
    memmove(body, body + first, (size_t)(n - first) * sizeof *body);
    memmove(numbers, numbers + first, (size_t)(n - first) * sizeof *numbers);
    return n - first;
}

static void write_listing(FILE *out, const Source *s, char *const *body, const int *numbers,
                          int n) {
    fputs("\n::: {.listing}\n[", out);
    write_escaped(out, s->path);
    if (n == 1)
        fprintf(out, ", line %d]{.listing-name}\n\n", numbers[0]);
    else
        fprintf(out, ", lines %d\u2013%d]{.listing-name}\n\n", numbers[0],
                numbers[n - 1]); // en dash
    write_fence(out, body, n, language_of(s->path));
    size_t indent = common_indent(body, n);
    for (int i = 0; i < n; i++) fprintf(out, "%s\n", is_blank(body[i]) ? "" : body[i] + indent);
    write_fence(out, body, n, "");
    fputs(":::\n\n", out);
}

static void write_output(FILE *out, const char *program, Source *text) {
    int n = text->nlines;
    while (n > 0 && is_blank(text->lines[n - 1])) n--;
    for (int i = 0; i < n; i++) {
        char *redrawn = strrchr(text->lines[i], '\r'); // a progress line: keep what stays on screen
        if (redrawn) text->lines[i] = redrawn + 1;
    }
    fputs("\n::: {.output}\n[output of build/", out);
    write_escaped(out, program);
    fputs("]{.output-name}\n\n", out);
    write_fence(out, text->lines, n, "text");
    for (int i = 0; i < n; i++) fprintf(out, "%s\n", text->lines[i]);
    write_fence(out, text->lines, n, "");
    fputs(":::\n\n", out);
}

// ---- directives -------------------------------------------------------------

typedef struct {
    Library *lib;
    const char *page; // the page being read, for messages
    int line;         // the directive's line in it
    FILE *out;        // where the expansion goes; NULL when only checking
} Context;

// @include PATH NAME
static void include_region(const Context *c, const char *path, const char *name) {
    Source *s = library_get(c->lib, path);
    if (!s) {
        problem(c->page, c->line, "@include: cannot read %s: %s", path, strerror(errno));
        return;
    }
    Region *r = find_region(s, name, strlen(name));
    if (!r) {
        problem(c->page, c->line, "@include: %s has no region '%s'", s->path, name);
        return;
    }
    r->included = true;
    if (r->end == 0) return; // never closed: reported when the file was scanned
    char **body = xrealloc(NULL, (size_t)(r->end - r->begin) * sizeof *body);
    int *numbers = xrealloc(NULL, (size_t)(r->end - r->begin) * sizeof *numbers);
    int n = region_body(s, r, body, numbers);
    if (n == 0)
        problem(c->page, c->line, "@include: region '%s' of %s is empty", name, s->path);
    else if (c->out)
        write_listing(c->out, s, body, numbers, n);
    free(body);
    free(numbers);
}

// @output PROGRAM
static void include_output(const Context *c, const char *program) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", OUTPUT_DIR, program);
    Source text;
    if (!read_lines(&text, path)) {
        problem(c->page, c->line, "@output: cannot read %s (`make figures` writes it): %s", path,
                strerror(errno));
        return;
    }
    if (c->out) write_output(c->out, program, &text);
    source_free(&text);
}

// Split line in place into at most max words; returns the count, max + 1 if more.
static int split_words(char *line, char **words, int max) {
    int n = 0;
    for (char *p = line;;) {
        p += strspn(p, " \t");
        if (*p == '\0') return n;
        if (n == max) return max + 1;
        words[n++] = p;
        p += strcspn(p, " \t");
        if (*p) *p++ = '\0';
    }
}

static void directive(const Context *c, char *line) {
    char *w[3];
    int n = split_words(line, w, 3);
    if (strcmp(w[0], "@include") == 0 && n == 3)
        include_region(c, w[1], w[2]);
    else if (strcmp(w[0], "@include") == 0)
        problem(c->page, c->line, "@include wants a path and a region name: @include PATH NAME");
    else if (strcmp(w[0], "@output") == 0 && n == 2)
        include_output(c, w[1]);
    else if (strcmp(w[0], "@output") == 0)
        problem(c->page, c->line, "@output wants a program name: @output PROGRAM");
    else
        problem(c->page, c->line, "unknown directive '%s' (known: @include, @output)", w[0]);
}

// ---- pages ------------------------------------------------------------------

// The length of the code fence (``` or ~~~, three or more) that line opens or
// closes, its character in *ch and what follows it in *info; 0 if not a fence.
static int fence_length(const char *line, char *ch, const char **info) {
    const char *p = line;
    while (*p == ' ' && p - line < 3) p++;
    if (*p != '`' && *p != '~') return 0;
    int n = (int)strspn(p, *p == '`' ? "`" : "~");
    *ch = *p;
    *info = p + n;
    return n >= 3 ? n : 0;
}

// Read page and expand its directives into out (NULL: check only).
static void weave_page(Library *lib, const char *page, FILE *out) {
    Source text;
    if (!read_lines(&text, page)) {
        problem(page, 0, "cannot read: %s", strerror(errno));
        return;
    }
    char fence = 0; // the fence character while inside a code block, else 0
    int fence_len = 0, fence_line = 0;
    for (int i = 0; i < text.nlines; i++) {
        char *line = text.lines[i], ch = 0;
        const char *info = "";
        int len = fence_length(line, &ch, &info);
        if (!fence && len) {
            fence = ch;
            fence_len = len;
            fence_line = i + 1;
        } else if (fence && ch == fence && len >= fence_len && is_blank(info)) {
            fence = 0;
        } else if (!fence && line[0] == '@' && isalpha((unsigned char)line[1])) {
            directive(&(Context){lib, page, i + 1, out}, line);
            continue;
        }
        if (out) fprintf(out, "%s\n", line);
    }
    if (fence) problem(page, fence_line, "this code block is never closed");
    source_free(&text);
}

// ---- commands ---------------------------------------------------------------

static int check(char **pages, int npages) {
    Library lib = {0};
    for (size_t i = 0; i < sizeof SOURCE_DIRS / sizeof *SOURCE_DIRS; i++)
        library_load_dir(&lib, SOURCE_DIRS[i]);
    for (int i = 0; i < npages; i++) weave_page(&lib, pages[i], NULL);
    report_unused_regions(&lib);
    library_free(&lib);
    return problems ? 1 : 0;
}

static int expand(const char *in, const char *out) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp) {
        problem(out, 0, "path too long");
        return 1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        problem(tmp, 0, "cannot write: %s", strerror(errno));
        return 1;
    }
    Library lib = {0};
    weave_page(&lib, in, f);
    library_free(&lib);
    bool written = !ferror(f);
    if (fclose(f) != 0 || !written)
        problem(tmp, 0, "cannot write: %s", strerror(errno));
    else if (!problems && rename(tmp, out) != 0)
        problem(out, 0, "cannot rename %s to it: %s", tmp, strerror(errno));
    if (problems) remove(tmp);
    return problems ? 1 : 0;
}

static int usage_error(const char *why) {
    fprintf(stderr, "weave: %s (try: weave --help)\n", why);
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        for (int i = 2; i < argc; i++)
            if (argv[i][0] == '-') return usage_error("check takes pages, not options");
        return check(argv + 2, argc - 2);
    }
    if (argc >= 2 && strcmp(argv[1], "expand") == 0) {
        if (argc != 4 || argv[2][0] == '-' || argv[3][0] == '-')
            return usage_error("expand takes two paths: IN.md OUT.md");
        return expand(argv[2], argv[3]);
    }
    return usage_error(argc < 2 ? "no command" : "unknown command; use check or expand");
}
