// weave.c — makes the docs pages literate: a page names a region of the real,
// compiled code (or the output a chapter printed) and weave copies it in, so the
// prose can never drift from the code. pandoc then turns the woven page to HTML.
//
//   build/weave check DOC.md...       report every problem in the pages and sources
//   build/weave expand IN.md OUT.md   write IN with its directives expanded to OUT
//   build/weave nav PAGE.md OUT.html  write PAGE's navigation bar to OUT
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
//     @output PROGRAM      build/out/PROGRAM.txt (or $WEAVE_OUTPUTS/PROGRAM.txt),
//                          what `make figures` captured
//                          from build/PROGRAM, as a ::: {.output} div with the
//                          caption [output of build/PROGRAM]{.output-name}
//                          and a ```text block.
//     @chapters            the chapters, each as its title (a link) and its
//                          summary, in a ::: {.contents} div; for the index
//     @pages               the same for the other pages, except the index
//     @modules             for each chapter, a heading (###: its pages' short
//                          titles, each a link) and a table of the
//                          library's modules it adds, each described by the first
//                          sentence of the comment that opens src/MODULE.h, or
//                          src/MODULE.c when it has no header: `// MODULE.h — what
//                          it provides`. The chapters and their modules come from
//                          make (MODULES_NN) in build/docs/modules.txt, one line
//                          `NN_name module...` per chapter, each listing all the
//                          modules it may use.
//
// Every other line passes through unchanged. docs/style.css styles the classes.
//
// THE BOOK. The pages are the *.md files of docs/: the chapters (NN-name.md, in
// name order, so in number order; a chapter told in several pages has them in
// the order of their names, 06-classifier.md before 06-training.md), the index
// (index.md) and the others, in name order. Each opens
// with front matter giving its title and, as pandoc's subtitle, a one-line
// summary of what it teaches or holds, each on one line (plain, "double-quoted"
// or 'single-quoted'):
//
//     ---
//     title: "03 — Attention: one head"
//     subtitle: "Scaled dot-product attention ..."
//     ---
//
// The title is also shown as plain text in the navigation bars, so it has no
// Markdown in it; there, a chapter goes by its short title, the title up to its
// first colon. NAV writes the bar pandoc puts above and below a page: a chapter
// links to the previous and the next chapter and to the index, another page to
// the index, and the index has none.
//
// LINKS. Every link [text](TARGET) of a page, outside code, must lead somewhere:
// TARGET.html to a page (TARGET.md beside it; a page's .md is refused, since
// readers follow links in the HTML), any other relative TARGET to an existing
// file, relative to the page. Links with a scheme (https:) are not followed.
//
// CHECK loads every src/, chapters/ and tests/ file ending in .c or .h (and
// any other file a page includes), then every page, and prints one line
// `file:line: message` on stderr for each problem: a directive naming a missing
// file, region or output; an unknown directive or one with the wrong number of
// words; a region no page includes; a duplicate region name in a file; a
// region never closed or an endregion that closes nothing or the wrong region;
// a code fence never closed in a page; a page without its title or summary; a
// link that leads nowhere; a module without its opening comment. It prints
// nothing when all is well.
//
// EXPAND reports the same problems for one page (except unused regions), and
// any page's missing title or summary, and writes OUT.tmp, renamed to OUT only
// when there were none. NAV does the same for the bar it writes.
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
#include <unistd.h>

static const char *const SOURCE_DIRS[] = {"src", "chapters", "tests"};
static const char *const OUTPUT_DIR = "build/out"; // or $WEAVE_OUTPUTS (make's QUICK=1)
static const char *const PAGES_DIR = "docs";
static const char *const INDEX_PAGE = "index"; // docs/index.md, the contents
static const char *const MODULES_LIST = "build/docs/modules.txt";

static const char *const USAGE =
    "usage: weave check DOC.md...       report problems in the pages and the code regions\n"
    "       weave expand IN.md OUT.md   write IN with its directives expanded to OUT\n"
    "       weave nav PAGE.md OUT.html  write PAGE's navigation bar (HTML) to OUT\n"
    "       weave --help                this help\n"
    "\n"
    "In sources (src/ chapters/ tests/, *.c *.h):   // region: NAME  ...  // endregion: NAME\n"
    "In pages:  @include PATH NAME    the region NAME of PATH as a captioned listing\n"
    "           @output PROGRAM       build/out/PROGRAM.txt as a captioned text block\n"
    "           @chapters, @pages     the chapters, the other pages: titles and summaries\n"
    "           @modules              the modules by chapter (build/docs/modules.txt)\n"
    "Pages (docs/*.md) open with front matter: ---, title: ..., subtitle: ..., ---\n"
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
    Source **sources; // each allocated on its own, so a pointer to one stays valid
    int nsources;
} Library;

// The source at path, read and scanned on first use; NULL (errno set) if unreadable.
static Source *library_get(Library *lib, const char *path) {
    while (strncmp(path, "./", 2) == 0) path += 2;
    for (int i = 0; i < lib->nsources; i++)
        if (strcmp(lib->sources[i]->path, path) == 0) return lib->sources[i];
    Source s;
    if (!read_lines(&s, path)) return NULL;
    scan_regions(&s);
    lib->sources = xrealloc(lib->sources, (size_t)(lib->nsources + 1) * sizeof *lib->sources);
    lib->sources[lib->nsources] = xrealloc(NULL, sizeof s);
    *lib->sources[lib->nsources] = s;
    return lib->sources[lib->nsources++];
}

static void library_free(Library *lib) {
    for (int i = 0; i < lib->nsources; i++) {
        source_free(lib->sources[i]);
        free(lib->sources[i]);
    }
    free(lib->sources);
}

static bool ends_with(const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static bool is_source_name(const char *name) {
    return name[0] != '.' && (ends_with(name, ".c") || ends_with(name, ".h"));
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// The names in dir (not below it) that keep accepts, in name order; their
// count in *n. A missing dir has none.
static char **list_dir(const char *dir, bool (*keep)(const char *), int *n) {
    char **names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (!keep(e->d_name)) continue;
        names = xrealloc(names, (size_t)(*n + 1) * sizeof *names);
        names[(*n)++] = xstrndup(e->d_name, strlen(e->d_name));
    }
    closedir(d);
    if (*n > 1) qsort(names, (size_t)*n, sizeof *names, compare_names);
    return names;
}

// Read every *.c and *.h file in dir (not below it), in name order.
static void library_load_dir(Library *lib, const char *dir) {
    int n;
    char **names = list_dir(dir, is_source_name, &n);
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
        const Source *s = lib->sources[i];
        for (int j = 0; j < s->nregions; j++) {
            const Region *r = &s->regions[j];
            bool duplicate = find_region(s, r->name, strlen(r->name)) != r; // reported already
            if (!r->included && !duplicate)
                problem(s->path, r->begin, "region '%s' is never included by any docs page",
                        r->name);
        }
    }
}

// ---- the book: every page's name, title and summary ---------------------------

typedef struct {
    char *name;     // "03-attention": docs/NAME.md, woven to NAME.html
    char *title;    // from the front matter, unquoted ("" if missing: reported)
    char *subtitle; // the one-line summary, Markdown
} Page;

typedef struct {
    Page *pages; // the chapters in number order, then the others in name order
    int npages;
    int nchapters; // pages[0..nchapters) are the chapters
} Book;

// Characters a title may not have: it is shown as plain text in the navigation.
static const char *const NOT_IN_TITLES = "*_`$\\[]<>";

static bool is_chapter_name(const char *name) {
    return isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]) && name[2] == '-';
}

static bool is_page_name(const char *name) {
    return name[0] != '.' && ends_with(name, ".md");
}

// A one-line YAML scalar, unquoted: "double" (escapes \" and \\ only), 'single'
// ('' for ') or plain. NULL if it is none of those, or empty.
static char *yaml_scalar(const char *text) {
    text = skip_space(text);
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1])) n--;
    char quote = text[0];
    if (quote != '"' && quote != '\'') return n > 0 ? xstrndup(text, n) : NULL;
    if (n < 3 || text[n - 1] != quote) return NULL;
    char *value = xrealloc(NULL, n), *v = value;
    for (size_t i = 1; i < n - 1; i++) {
        char c = text[i];
        if (c == quote || (quote == '"' && c == '\\')) { // the first of a pair
            char next = text[i + 1];
            bool pair = quote == '"' ? next == '"' || next == '\\' : next == '\'';
            if (i + 1 == n - 1 || !pair) {
                free(value);
                return NULL;
            }
            c = next;
            i++;
        }
        *v++ = c;
    }
    *v = '\0';
    return value;
}

// The value of `key: ...` in the front matter of page s (its lines from the
// opening --- to the next --- or ...); NULL, reported, if missing or unreadable.
static char *front_matter(const Source *s, const char *key) {
    size_t len = strlen(key);
    for (int i = 1; i < s->nlines; i++) {
        const char *line = s->lines[i];
        if (strcmp(line, "---") == 0 || strcmp(line, "...") == 0) break;
        if (strncmp(line, key, len) != 0 || line[len] != ':') continue;
        char *value = yaml_scalar(line + len + 1);
        if (!value)
            problem(s->path, i + 1,
                    "%s: one line of text, plain, \"double-quoted\" (escapes \\\" and \\\\ "
                    "only) or 'single-quoted'",
                    key);
        return value;
    }
    problem(s->path, 0, "the front matter has no '%s:' line", key);
    return NULL;
}

// Page file (a name in PAGES_DIR) with its title and summary; problems reported.
static Page page_load(const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", PAGES_DIR, file);
    Page p = {.name = xstrndup(file, strlen(file) - strlen(".md"))};
    Source s;
    if (!read_lines(&s, path)) {
        problem(path, 0, "cannot read: %s", strerror(errno));
    } else if (s.nlines == 0 || strcmp(s.lines[0], "---") != 0) {
        problem(path, 1, "a page opens with front matter: ---, title: ..., subtitle: ..., ---");
        source_free(&s);
    } else {
        p.title = front_matter(&s, "title");
        p.subtitle = front_matter(&s, "subtitle");
        if (p.title && p.title[strcspn(p.title, NOT_IN_TITLES)])
            problem(path, 0, "the title is shown as plain text in the navigation: no %s in it",
                    NOT_IN_TITLES);
        source_free(&s);
    }
    if (!p.title) p.title = xstrndup("", 0);
    if (!p.subtitle) p.subtitle = xstrndup("", 0);
    return p;
}

// The page named name[0..len), or -1.
static int book_find(const Book *book, const char *name, size_t len) {
    for (int i = 0; i < book->npages; i++)
        if (strlen(book->pages[i].name) == len && strncmp(book->pages[i].name, name, len) == 0)
            return i;
    return -1;
}

// Every page of PAGES_DIR; chapters first, as their names sort before the others'.
static void book_load(Book *book) {
    int n;
    char **files = list_dir(PAGES_DIR, is_page_name, &n);
    *book = (Book){.pages = xrealloc(NULL, (size_t)n * sizeof *book->pages), .npages = n};
    for (int i = 0; i < n; i++) {
        book->pages[i] = page_load(files[i]);
        if (is_chapter_name(files[i])) book->nchapters++;
        free(files[i]);
    }
    free(files);
    if (book_find(book, INDEX_PAGE, strlen(INDEX_PAGE)) < 0)
        problem(PAGES_DIR, 0, "there is no %s.md, the contents every page links to", INDEX_PAGE);
}

static void book_free(Book *book) {
    for (int i = 0; i < book->npages; i++) {
        free(book->pages[i].name);
        free(book->pages[i].title);
        free(book->pages[i].subtitle);
    }
    free(book->pages);
}

// The (first) page of the chapter whose number begins program ("03_attention" ->
// 03-attention), or -1.
static int book_chapter(const Book *book, const char *program) {
    for (int i = 0; i < book->nchapters; i++)
        if (strncmp(book->pages[i].name, program, 2) == 0) return i;
    return -1;
}

static bool is_index(const Page *p) {
    return strcmp(p->name, INDEX_PAGE) == 0;
}

// The length of a title's short form: up to its first colon.
static int short_title(const char *title) {
    return (int)strcspn(title, ":");
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
    const Book *book;
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
    const char *dir = getenv("WEAVE_OUTPUTS");
    snprintf(path, sizeof path, "%s/%s.txt", dir != NULL && dir[0] != '\0' ? dir : OUTPUT_DIR,
             program);
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

// ---- the contents and the modules ---------------------------------------------

// @chapters and @pages: pages [first, end) of the book but the index, each a
// link (its title) and its summary.
static void write_contents(FILE *out, const Book *book, int first, int end) {
    if (!out) return;
    fputs("\n::: {.contents}\n", out);
    for (int i = first; i < end; i++) {
        const Page *p = &book->pages[i];
        if (!is_index(p)) fprintf(out, "- [%s](%s.html)\\\n  %s\n", p->title, p->name, p->subtitle);
    }
    fputs(":::\n\n", out);
}

// text as literal Markdown in a table cell: the characters that would mean
// something there escaped, the rest (quotes, dashes) left to read as prose.
static void write_prose(FILE *out, const char *text) {
    for (const char *p = text; *p; p++) {
        if (strchr("\\`*_[]<>$|~^", *p)) fputc('\\', out);
        fputc(*p, out);
    }
}

// The first sentence of the comment that opens s, `// FILE — what it provides`
// (FILE its file name): what follows the dash, across comment lines, up to a
// full stop that ends a sentence or a colon that ends a line, without them.
// NULL, reported, if s does not open so.
static char *opening_sentence(const Source *s) {
    const char *file = strrchr(s->path, '/');
    char opening[4096];
    snprintf(opening, sizeof opening, "// %s \u2014 ", file ? file + 1 : s->path);
    size_t skip = strlen(opening), len = 0;
    if (s->nlines == 0 || strncmp(s->lines[0], opening, skip) != 0) {
        problem(s->path, 1, "a module opens with a comment saying what it provides: '%s...'",
                opening);
        return NULL;
    }
    char *sentence = xstrndup("", 0);
    for (int i = 0; i < s->nlines && strncmp(skip_space(s->lines[i]), "//", 2) == 0; i++) {
        const char *text = i == 0 ? s->lines[0] + skip : skip_space(skip_space(s->lines[i]) + 2);
        size_t n = strlen(text);
        while (n > 0 && isspace((unsigned char)text[n - 1])) n--;
        if (n == 0) break; // a blank comment line ends the paragraph
        const char *stop = strstr(text, ". ");
        bool ends = stop || text[n - 1] == '.' || text[n - 1] == ':';
        size_t take = stop ? (size_t)(stop - text) : ends ? n - 1 : n;
        sentence = xrealloc(sentence, len + take + 2);
        if (len > 0) sentence[len++] = ' ';
        memcpy(sentence + len, text, take);
        sentence[len += take] = '\0';
        if (ends) break;
    }
    if (len == 0) {
        problem(s->path, 1, "the opening comment says nothing after '%s'", opening);
        free(sentence);
        return NULL;
    }
    return sentence;
}

// A chapter's heading in the @modules table: the short title of each of its
// pages, linked to it; just the program's name while the chapter has no page.
static void write_chapter_heading(FILE *out, const Book *book, const char *program) {
    int i = book_chapter(book, program);
    if (i < 0) {
        fprintf(out, "\n### `%s`\n\n", program);
        return;
    }
    fputs("\n### ", out);
    for (int j = i; j < book->nchapters && strncmp(book->pages[j].name, program, 2) == 0; j++)
        fprintf(out, "%s[%.*s](%s.html)", j > i ? " · " : "", short_title(book->pages[j].title),
                book->pages[j].title, book->pages[j].name);
    fputs("\n\n", out);
}

// One row of the @modules table: the module's files in src/ and what its header
// (without one, its .c) provides. line: the module's line in MODULES_LIST.
static void write_module_row(const Context *c, const char *module, int line) {
    char header[4096], code[4096];
    snprintf(header, sizeof header, "src/%s.h", module);
    snprintf(code, sizeof code, "src/%s.c", module);
    Source *h = library_get(c->lib, header), *k = library_get(c->lib, code);
    if (!h && !k) {
        problem(MODULES_LIST, line, "module '%s' has neither %s nor %s", module, header, code);
        return;
    }
    char *provides = opening_sentence(h ? h : k);
    if (provides && c->out) {
        fputs("| ", c->out);
        if (h) fprintf(c->out, "`%s.h` ", module);
        if (k) fprintf(c->out, "`%s.c`", module);
        fputs(" | ", c->out);
        write_prose(c->out, provides);
        fputs(" |\n", c->out);
    }
    free(provides);
}

static bool is_listed(char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

// @modules: each chapter of MODULES_LIST, a heading and a table of the modules
// no earlier chapter has.
static void write_modules(const Context *c) {
    Source list;
    if (!read_lines(&list, MODULES_LIST)) {
        problem(c->page, c->line, "@modules: cannot read %s (make writes it from MODULES_NN): %s",
                MODULES_LIST, strerror(errno));
        return;
    }
    char **seen = NULL; // every module listed so far (words of list's lines)
    int nseen = 0;
    for (int i = 0; i < list.nlines; i++) {
        int max = (int)strlen(list.lines[i]) / 2 + 1; // words a line can hold
        char **words = xrealloc(NULL, (size_t)max * sizeof *words);
        int n = split_words(list.lines[i], words, max);
        if (n < 2)
            problem(MODULES_LIST, i + 1, "want a chapter and its modules: NN_name module...");
        else if (c->out)
            write_chapter_heading(c->out, c->book, words[0]);
        int before = nseen;
        for (int j = 1; j < n; j++) {
            if (is_listed(seen, nseen, words[j])) continue;
            if (c->out && nseen == before)
                fputs("| in src/ | what it provides |\n"
                      "|:------------------|:--------------------------------------------------|\n",
                      c->out);
            seen = xrealloc(seen, (size_t)(nseen + 1) * sizeof *seen);
            seen[nseen++] = words[j];
            write_module_row(c, words[j], i + 1);
        }
        if (c->out && n >= 2) fputs(nseen == before ? "No new modules.\n\n" : "\n", c->out);
        free(words);
    }
    free(seen);
    source_free(&list);
}

static void directive(const Context *c, char *line) {
    char *w[3];
    int n = split_words(line, w, 3);
    const char *name = w[0];
    bool alone = n == 1; // the directive without words after it
    if (strcmp(name, "@include") == 0 && n == 3)
        include_region(c, w[1], w[2]);
    else if (strcmp(name, "@include") == 0)
        problem(c->page, c->line, "@include wants a path and a region name: @include PATH NAME");
    else if (strcmp(name, "@output") == 0 && n == 2)
        include_output(c, w[1]);
    else if (strcmp(name, "@output") == 0)
        problem(c->page, c->line, "@output wants a program name: @output PROGRAM");
    else if (strcmp(name, "@chapters") == 0 && alone)
        write_contents(c->out, c->book, 0, c->book->nchapters);
    else if (strcmp(name, "@pages") == 0 && alone)
        write_contents(c->out, c->book, c->book->nchapters, c->book->npages);
    else if (strcmp(name, "@modules") == 0 && alone)
        write_modules(c);
    else if (strcmp(name, "@chapters") == 0 || strcmp(name, "@pages") == 0 ||
             strcmp(name, "@modules") == 0)
        problem(c->page, c->line, "%s takes nothing after it", name);
    else
        problem(c->page, c->line,
                "unknown directive '%s' (known: @include, @output, @chapters, @pages, @modules)",
                name);
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

// One link's TARGET (up to a closing parenthesis, a space or a #fragment) in
// line of page: reported if it leads nowhere.
static void check_link(const char *page, int line, const char *target) {
    int n = (int)strcspn(target, ") \t#");
    if (n == 0 || memchr(target, ':', (size_t)n)) return; // within the page, or with a scheme
    const char *slash = strrchr(page, '/');
    int dir = slash ? (int)(slash - page + 1) : 0; // the page's directory, with its slash
    bool html = n > 5 && strncmp(target + n - 5, ".html", 5) == 0;
    char path[4096]; // what must exist: the page's source for TARGET.html
    snprintf(path, sizeof path, "%.*s%.*s%s", dir, page, html ? n - 5 : n, target,
             html ? ".md" : "");
    if (n > 3 && strncmp(target + n - 3, ".md", 3) == 0)
        problem(page, line, "link to %.*s: link the woven page, %.*s.html", n, target, n - 3,
                target);
    else if (access(path, F_OK) != 0)
        problem(page, line, "link to %.*s leads nowhere: there is no %s", n, target, path);
}

// The links [text](TARGET) of line (of page) outside code spans, checked.
static void check_links(const char *page, int line, const char *text) {
    bool code = false;
    for (const char *p = text; *p; p++) {
        if (*p == '`')
            code = !code;
        else if (!code && p[0] == ']' && p[1] == '(')
            check_link(page, line, p + 2);
    }
}

// Read page, check its links and expand its directives into out (NULL: check only).
static void weave_page(Library *lib, const Book *book, const char *page, FILE *out) {
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
            directive(&(Context){lib, book, page, i + 1, out}, line);
            continue;
        } else if (!fence) {
            check_links(page, i + 1, line);
        }
        if (out) fprintf(out, "%s\n", line);
    }
    if (fence) problem(page, fence_line, "this code block is never closed");
    source_free(&text);
}

// ---- the navigation ---------------------------------------------------------

// text[0..n) as HTML text (titles have no < or >: NOT_IN_TITLES).
static void write_html_text(FILE *out, const char *text, int n) {
    for (int i = 0; i < n; i++)
        if (text[i] == '&')
            fputs("&amp;", out);
        else
            fputc(text[i], out);
}

// A link of the navigation bar to page p by its short title; rel is "prev" or "next".
static void write_nav_link(FILE *out, const Page *p, const char *rel, const char *before,
                           const char *after) {
    fprintf(out, "<a class=\"%s\" rel=\"%s\" href=\"%s.html\">%s", rel, rel, p->name, before);
    write_html_text(out, p->title, short_title(p->title));
    fprintf(out, "%s</a>\n", after);
}

// The bar above and below page i: a chapter's links to the previous chapter,
// the index and the next chapter; another page's to the index; none on the index.
static void write_nav(FILE *out, const Book *book, int i) {
    if (is_index(&book->pages[i])) return;
    bool chapter = i < book->nchapters;
    fputs("<nav class=\"book-nav\">\n", out);
    if (chapter && i > 0) write_nav_link(out, &book->pages[i - 1], "prev", "\u2039 ", "");
    fprintf(out, "<a class=\"up\" href=\"%s.html\">Contents</a>\n", INDEX_PAGE);
    if (chapter && i + 1 < book->nchapters)
        write_nav_link(out, &book->pages[i + 1], "next", "", " \u203a");
    fputs("</nav>\n", out);
}

// ---- commands ---------------------------------------------------------------

// out.tmp opened for writing, its name in tmp; NULL, reported, if it cannot be.
static FILE *open_temporary(const char *out, char *tmp, size_t size) {
    if (snprintf(tmp, size, "%s.tmp", out) >= (int)size) {
        problem(out, 0, "path too long");
        return NULL;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) problem(tmp, 0, "cannot write: %s", strerror(errno));
    return f;
}

// Close f (opened on tmp) and rename tmp to out if no problem was found;
// else remove it. Returns the exit status.
static int close_temporary(FILE *f, const char *tmp, const char *out) {
    bool written = !ferror(f);
    if (fclose(f) != 0 || !written)
        problem(tmp, 0, "cannot write: %s", strerror(errno));
    else if (!problems && rename(tmp, out) != 0)
        problem(out, 0, "cannot rename %s to it: %s", tmp, strerror(errno));
    if (problems) remove(tmp);
    return problems ? 1 : 0;
}

static int check(char **pages, int npages) {
    Library lib = {0};
    for (size_t i = 0; i < sizeof SOURCE_DIRS / sizeof *SOURCE_DIRS; i++)
        library_load_dir(&lib, SOURCE_DIRS[i]);
    Book book;
    book_load(&book);
    for (int i = 0; i < npages; i++) weave_page(&lib, &book, pages[i], NULL);
    report_unused_regions(&lib);
    book_free(&book);
    library_free(&lib);
    return problems ? 1 : 0;
}

static int expand(const char *in, const char *out) {
    char tmp[4096];
    FILE *f = open_temporary(out, tmp, sizeof tmp);
    if (!f) return 1;
    Library lib = {0};
    Book book;
    book_load(&book);
    weave_page(&lib, &book, in, f);
    book_free(&book);
    library_free(&lib);
    return close_temporary(f, tmp, out);
}

static int nav(const char *page, const char *out) {
    Book book;
    book_load(&book);
    const char *file = strrchr(page, '/');
    file = file ? file + 1 : page;
    int i = ends_with(file, ".md") ? book_find(&book, file, strlen(file) - strlen(".md")) : -1;
    char tmp[4096];
    FILE *f = NULL;
    if (i < 0)
        problem(page, 0, "not one of the pages, %s/*.md", PAGES_DIR);
    else
        f = open_temporary(out, tmp, sizeof tmp);
    if (f) write_nav(f, &book, i);
    int status = f ? close_temporary(f, tmp, out) : 1;
    book_free(&book);
    return status;
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
    bool two_paths = argc == 4 && argv[2][0] != '-' && argv[3][0] != '-';
    if (argc >= 2 && strcmp(argv[1], "expand") == 0)
        return two_paths ? expand(argv[2], argv[3])
                         : usage_error("expand takes two paths: IN.md OUT.md");
    if (argc >= 2 && strcmp(argv[1], "nav") == 0)
        return two_paths ? nav(argv[2], argv[3])
                         : usage_error("nav takes two paths: PAGE.md OUT.html");
    return usage_error(argc < 2 ? "no command" : "unknown command; use check, expand or nav");
}
