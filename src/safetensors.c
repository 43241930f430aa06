// safetensors.c — checkpoints in the safetensors format: writing a Tensors
// list (F32, little-endian, atomically), and reading one back after checking
// everything in the file before trusting any of it. The layout:
//
//     u64 N (little-endian) | N bytes of JSON, padded with spaces | the data
//
//     {"__metadata__": {"image_size": "28", ...},
//      "class_token": {"dtype": "F32", "shape": [1,1,64], "data_offsets": [0,256]}, ...}
//
// Offsets count from the start of the data; together they cover it exactly.
#include "safetensors.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "files.h"

#define MAX_HEADER    100000000 // bytes of JSON, as the reference implementation allows
#define MAX_TENSORS   100000    // ViT-H has under 500
#define MAX_FILE_DIMS 8
#define ALIGN         8 // the data starts at a multiple of 8 bytes

// ---- metadata --------------------------------------------------------------------

void safetensors_meta_set(SafetensorsMeta *meta, const char *key, const char *value) {
    assert(strlen(key) < sizeof meta->keys[0] && strlen(value) < sizeof meta->values[0]);
    int i = 0;
    while (i < meta->count && strcmp(meta->keys[i], key) != 0) i++;
    if (i == meta->count) {
        assert(meta->count < SAFETENSORS_MAX_META && "too many metadata entries");
        strcpy(meta->keys[meta->count++], key);
    }
    strcpy(meta->values[i], value);
}

const char *safetensors_meta_get(const SafetensorsMeta *meta, const char *key) {
    for (int i = 0; i < meta->count; i++)
        if (strcmp(meta->keys[i], key) == 0) return meta->values[i];
    return NULL;
}

// ---- torchvision's shapes ----------------------------------------------------------

// region: torchvision-shapes
// torchvision keeps the class token as (1,1,C) and the position embedding as
// (1,T,C), ready to broadcast over the batch; here they are (C) and (T,C).
// They are written with torchvision's leading 1s, so load_state_dict(strict=True)
// takes the file as it is, and a saved shape matches ours up to leading 1s.
static const struct {
    const char *name;
    int ndim;
} torchvision_shapes[] = {{"class_token", 3}, {"encoder.pos_embedding", 3}};

// How many dimensions e is written with.
static int written_ndim(const TensorEntry *e) {
    for (size_t i = 0; i < sizeof torchvision_shapes / sizeof torchvision_shapes[0]; i++)
        if (strcmp(e->name, torchvision_shapes[i].name) == 0 &&
            e->ndim < torchvision_shapes[i].ndim)
            return torchvision_shapes[i].ndim;
    return e->ndim;
}
// endregion: torchvision-shapes

// ---- writing -----------------------------------------------------------------------

typedef struct {
    char *text;
    size_t length, capacity;
} Text;

static void text_printf(Text *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(Text *s, const char *fmt, ...) {
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(s->text + s->length, s->capacity - s->length, fmt, args);
        va_end(args);
        assert(n >= 0);
        if ((size_t)n < s->capacity - s->length) {
            s->length += (size_t)n;
            return;
        }
        char *grown = xmalloc(2 * s->capacity + (size_t)n);
        memcpy(grown, s->text, s->length);
        free(s->text);
        s->text = grown;
        s->capacity = 2 * s->capacity + (size_t)n;
    }
}

// s as a JSON string: quotes, backslashes and control characters escaped.
static void text_json_string(Text *s, const char *value) {
    text_printf(s, "\"");
    for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
        if (*c == '"' || *c == '\\')
            text_printf(s, "\\%c", *c);
        else if (*c < 0x20)
            text_printf(s, "\\u%04x", *c);
        else
            text_printf(s, "%c", *c);
    }
    text_printf(s, "\"");
}

// region: safetensors-header
// The JSON header: metadata first, then every tensor in t's order, back to
// back; padded with spaces so that the data starts at a multiple of 8.
static void header_json(Text *s, const Tensors *t, const SafetensorsMeta *meta) {
    text_printf(s, "{");
    if (meta != NULL && meta->count > 0) {
        text_printf(s, "\"__metadata__\":{");
        for (int i = 0; i < meta->count; i++) {
            text_printf(s, "%s", i ? "," : "");
            text_json_string(s, meta->keys[i]);
            text_printf(s, ":");
            text_json_string(s, meta->values[i]);
        }
        text_printf(s, "}%s", t->count > 0 ? "," : "");
    }
    size_t begin = 0;
    for (int i = 0; i < t->count; i++) {
        const TensorEntry *e = &t->entries[i];
        text_printf(s, "%s", i ? "," : "");
        text_json_string(s, e->name);
        text_printf(s, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < written_ndim(e) - e->ndim; d++) text_printf(s, "1,");
        for (int d = 0; d < e->ndim; d++) text_printf(s, "%s%d", d ? "," : "", e->shape[d]);
        size_t end = begin + e->count * sizeof(float);
        text_printf(s, "],\"data_offsets\":[%zu,%zu]}", begin, end);
        begin = end;
    }
    text_printf(s, "}");
    while ((ALIGN + s->length) % ALIGN != 0) text_printf(s, " ");
}
// endregion: safetensors-header

// x (n) as little-endian float32, whatever the machine's byte order.
static void write_floats(FILE *file, const float *x, size_t n) {
    unsigned char bytes[4096 * 4];
    for (size_t start = 0; start < n; start += 4096) {
        size_t chunk = n - start < 4096 ? n - start : 4096;
        for (size_t i = 0; i < chunk; i++) {
            uint32_t bits;
            memcpy(&bits, &x[start + i], sizeof bits);
            for (int b = 0; b < 4; b++) bytes[4 * i + b] = (unsigned char)(bits >> (8 * b));
        }
        fwrite(bytes, 4, chunk, file);
    }
}

bool safetensors_write(const char *path, const Tensors *t, const SafetensorsMeta *meta,
                       Error *err) {
    assert(t->memory != NULL || t->count == 0);
    Text header = {.text = xmalloc(4096), .capacity = 4096};
    header_json(&header, t, meta);
    AtomicFile af;
    bool ok = atomic_open(&af, path, err);
    if (ok) {
        unsigned char length[8];
        for (int b = 0; b < 8; b++) length[b] = (unsigned char)((uint64_t)header.length >> (8 * b));
        fwrite(length, 1, 8, af.file);
        fwrite(header.text, 1, header.length, af.file);
        for (int i = 0; i < t->count; i++)
            write_floats(af.file, t->memory + t->entries[i].offset, t->entries[i].count);
        ok = atomic_commit(&af, err); // reports any failed write
    }
    free(header.text);
    return ok;
}

// ---- the header, parsed ------------------------------------------------------------

typedef struct {
    char name[sizeof((TensorEntry *)0)->name];
    int ndim;
    uint64_t shape[MAX_FILE_DIMS];
    uint64_t begin, end; // data_offsets: bytes from the start of the data
    bool has_dtype, has_shape, has_offsets;
} FileTensor;

typedef struct {
    FileTensor *tensors; // (count)
    int count, capacity;
    SafetensorsMeta meta;
    uint64_t data_start; // 8 + N: where the data begins in the file
    uint64_t data_size;  // bytes of data: the rest of the file
} Header;

typedef struct {
    const char *text; // the header's N bytes (not NUL-terminated)
    size_t at, length;
    const char *path;
    Error *err;
    char *value;      // (length + 1) a metadata value of any length, as it is read
    const char *want; // a metadata key whose whole value to keep, or NULL
    char **wanted;    // that value (allocated), when want is in the header
} Parser;

// ---- a JSON parser for the header ------------------------------------------------
// Only what the format uses: objects, strings (with every escape), arrays of
// non-negative integers. The nesting is fixed, so nothing recurses.

static bool json_error(Parser *p, const char *what) {
    return error_set(p->err, "%s: bad header JSON at byte %zu: %s", p->path, p->at, what);
}

static void skip_space(Parser *p) {
    while (p->at < p->length && (p->text[p->at] == ' ' || p->text[p->at] == '\t' ||
                                 p->text[p->at] == '\n' || p->text[p->at] == '\r'))
        p->at++;
}

// Skips space; true (and steps over it) if the next character is c.
static bool take(Parser *p, char c) {
    skip_space(p);
    if (p->at == p->length || p->text[p->at] != c) return false;
    p->at++;
    return true;
}

static bool expect(Parser *p, char c) {
    if (take(p, c)) return true;
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return json_error(p, what);
}

// Four hex digits (after "\u") into *code.
static bool take_hex4(Parser *p, uint32_t *code) {
    *code = 0;
    for (int i = 0; i < 4; i++, p->at++) {
        char c = p->at < p->length ? p->text[p->at] : 0;
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0) return json_error(p, "bad \\u escape");
        *code = *code << 4 | (uint32_t)digit;
    }
    return true;
}

// The character of a "\u" escape ("\u" taken), a UTF-16 surrogate pair joined.
static bool take_unicode(Parser *p, uint32_t *code) {
    if (!take_hex4(p, code)) return false;
    if (*code >= 0xDC00 && *code <= 0xDFFF) return json_error(p, "lone low surrogate");
    if (*code < 0xD800 || *code > 0xDBFF) return true;
    uint32_t low = 0;
    bool paired = p->length - p->at >= 2 && memcmp(p->text + p->at, "\\u", 2) == 0;
    if (paired) {
        p->at += 2;
        if (!take_hex4(p, &low)) return false;
    }
    if (low < 0xDC00 || low > 0xDFFF) return json_error(p, "high surrogate without its low half");
    *code = 0x10000 + ((*code - 0xD800) << 10) + (low - 0xDC00);
    return true;
}

// The character after a backslash (taken) into *code.
static bool take_escape(Parser *p, uint32_t *code) {
    char c = p->at < p->length ? p->text[p->at] : 0;
    p->at++;
    switch (c) {
    case '"':
    case '\\':
    case '/': *code = (uint32_t)c; return true;
    case 'b': *code = '\b'; return true;
    case 'f': *code = '\f'; return true;
    case 'n': *code = '\n'; return true;
    case 'r': *code = '\r'; return true;
    case 't': *code = '\t'; return true;
    case 'u': return take_unicode(p, code);
    default: p->at--; return json_error(p, "bad escape in a string");
    }
}

// Appends code as UTF-8 to out, which holds *n bytes of size; false if it does not fit.
static bool put_utf8(char *out, size_t *n, size_t size, uint32_t code) {
    int count = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    if (*n + (size_t)count >= size) return false;
    for (int i = count - 1; i > 0; i--, code >>= 6)
        out[*n + (size_t)i] = (char)(0x80 | (code & 0x3F));
    out[*n] = (char)(lead[count] | code);
    *n += (size_t)count;
    return true;
}

// A JSON string into out (size bytes with the NUL); `what` names it in errors.
static bool take_string(Parser *p, char *out, size_t size, const char *what) {
    if (!expect(p, '"')) return false;
    size_t n = 0;
    for (;;) {
        if (p->at == p->length) return json_error(p, "unterminated string");
        unsigned char c = (unsigned char)p->text[p->at++];
        if (c == '"') break;
        if (c < 0x20) return json_error(p, "control character in a string");
        uint32_t code = c;
        if (c == '\\' && !take_escape(p, &code)) return false;
        if (code == 0) return json_error(p, "NUL in a string");
        bool fits = c == '\\' ? put_utf8(out, &n, size, code) : n + 1 < size;
        if (!fits) {
            char message[96];
            snprintf(message, sizeof message, "%s longer than %zu bytes", what, size - 1);
            return json_error(p, message);
        }
        if (c != '\\') out[n++] = (char)c; // raw bytes, UTF-8 or not, as they are
    }
    out[n] = '\0';
    return true;
}

// A non-negative integer, written as the format writes them: digits only.
static bool take_uint(Parser *p, uint64_t *v) {
    skip_space(p);
    size_t start = p->at;
    *v = 0;
    while (p->at < p->length && p->text[p->at] >= '0' && p->text[p->at] <= '9') {
        unsigned digit = (unsigned)(p->text[p->at++] - '0');
        if (*v > (UINT64_MAX - digit) / 10) return json_error(p, "integer too large");
        *v = *v * 10 + digit;
    }
    if (p->at == start) return json_error(p, "expected a non-negative integer");
    if (p->at - start > 1 && p->text[start] == '0') return json_error(p, "number with a leading 0");
    return true;
}

// An array of at most max non-negative integers into v (*n of them).
static bool take_uint_array(Parser *p, uint64_t *v, int max, int *n) {
    if (!expect(p, '[')) return false;
    *n = 0;
    if (take(p, ']')) return true;
    do {
        if (*n == max) return json_error(p, "array too long");
        if (!take_uint(p, &v[(*n)++])) return false;
    } while (take(p, ','));
    return expect(p, ']');
}

// Steps to the next member of an object whose '{' is taken: its key into key,
// up to the ':'; or sets *done at the closing '}'. index counts members so far.
static bool next_member(Parser *p, int index, char *key, size_t key_size, const char *what,
                        bool *done) {
    *done = take(p, '}');
    if (*done) return true;
    if (index > 0 && !expect(p, ',')) return false;
    return take_string(p, key, key_size, what) && expect(p, ':');
}

// ---- the header's meaning --------------------------------------------------------

// {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} into t (name set).
static bool take_tensor(Parser *p, FileTensor *t) {
    if (!expect(p, '{')) return false;
    char key[32], dtype[16];
    bool done;
    for (int i = 0;; i++) {
        if (!next_member(p, i, key, sizeof key, "a field name", &done)) return false;
        if (done) break;
        int n;
        uint64_t offsets[2];
        if (strcmp(key, "dtype") == 0 && !t->has_dtype) {
            if (!take_string(p, dtype, sizeof dtype, "a dtype")) return false;
            if (strcmp(dtype, "F32") != 0)
                return error_set(p->err, "%s: tensor %s is %s; only F32 checkpoints are read",
                                 p->path, t->name, dtype);
            t->has_dtype = true;
        } else if (strcmp(key, "shape") == 0 && !t->has_shape) {
            if (!take_uint_array(p, t->shape, MAX_FILE_DIMS, &t->ndim)) return false;
            t->has_shape = true;
        } else if (strcmp(key, "data_offsets") == 0 && !t->has_offsets) {
            if (!take_uint_array(p, offsets, 2, &n)) return false;
            if (n != 2 || offsets[0] > offsets[1])
                return error_set(p->err, "%s: tensor %s: data_offsets must be [begin, end]",
                                 p->path, t->name);
            t->begin = offsets[0];
            t->end = offsets[1];
            t->has_offsets = true;
        } else {
            return error_set(p->err, "%s: tensor %s: unexpected or repeated field \"%s\"", p->path,
                             t->name, key);
        }
    }
    if (!t->has_dtype || !t->has_shape || !t->has_offsets)
        return error_set(p->err, "%s: tensor %s: needs dtype, shape and data_offsets", p->path,
                         t->name);
    return true;
}

// {"key": "value", ...} into meta; a value too long for meta is left out of
// it (safetensors_read_meta_text reads it), and p->want's is kept whole.
static bool take_metadata(Parser *p, SafetensorsMeta *meta) {
    if (!expect(p, '{')) return false;
    bool done;
    for (int i = 0;; i++) {
        char key[sizeof meta->keys[0]];
        if (!next_member(p, i, key, sizeof key, "a metadata key", &done)) return false;
        if (done) break;
        if (safetensors_meta_get(meta, key) != NULL)
            return error_set(p->err, "%s: metadata key \"%s\" appears twice", p->path, key);
        skip_space(p);
        if (p->at == p->length || p->text[p->at] != '"')
            return error_set(p->err, "%s: metadata \"%s\" is not a string", p->path, key);
        if (!take_string(p, p->value, p->length + 1, "a metadata value")) return false;
        size_t n = strlen(p->value);
        if (p->want != NULL && *p->wanted == NULL && strcmp(key, p->want) == 0) {
            *p->wanted = xmalloc(n + 1);
            memcpy(*p->wanted, p->value, n + 1);
        }
        if (n >= sizeof meta->values[0]) continue; // a long value: not in meta
        if (meta->count == SAFETENSORS_MAX_META)
            return error_set(p->err, "%s: more than %d metadata entries", p->path,
                             SAFETENSORS_MAX_META);
        strcpy(meta->values[meta->count], p->value);
        strcpy(meta->keys[meta->count++], key);
    }
    return true;
}

// A new tensor in h, named name.
static FileTensor *header_add(Header *h, const char *name) {
    if (h->count == h->capacity) {
        h->capacity *= 2;
        FileTensor *grown = xmalloc(sizeof(FileTensor) * (size_t)h->capacity);
        memcpy(grown, h->tensors, sizeof(FileTensor) * (size_t)h->count);
        free(h->tensors);
        h->tensors = grown;
    }
    FileTensor *t = &h->tensors[h->count++];
    *t = (FileTensor){0};
    strcpy(t->name, name);
    return t;
}

// The whole header: one object of tensors and at most one "__metadata__".
static bool take_header(Parser *p, Header *h) {
    if (!expect(p, '{')) return false;
    char key[sizeof h->tensors[0].name];
    bool done, seen_meta = false;
    for (int i = 0;; i++) {
        if (!next_member(p, i, key, sizeof key, "a tensor name", &done)) return false;
        if (done) break;
        if (strcmp(key, "__metadata__") == 0) {
            if (seen_meta) return error_set(p->err, "%s: two __metadata__ objects", p->path);
            seen_meta = true;
            if (!take_metadata(p, &h->meta)) return false;
        } else {
            if (h->count == MAX_TENSORS)
                return error_set(p->err, "%s: more than %d tensors", p->path, MAX_TENSORS);
            if (!take_tensor(p, header_add(h, key))) return false;
        }
    }
    skip_space(p);
    if (p->at != p->length) return json_error(p, "text after the closing '}'");
    return true;
}

// ---- checking the layout -----------------------------------------------------------

static int by_name(const void *a, const void *b) {
    return strcmp(((const FileTensor *)a)->name, ((const FileTensor *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const FileTensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

// "(1,17,64)" into out.
static const char *shape_text(char out[128], int ndim, const uint64_t *shape) {
    int n = snprintf(out, 128, "(");
    for (int d = 0; d < ndim && n < 100; d++)
        n += snprintf(out + n, (size_t)(128 - n), "%s%" PRIu64, d ? "," : "", shape[d]);
    snprintf(out + n, (size_t)(128 - n), ")");
    return out;
}

// The number of elements of t's shape, or UINT64_MAX if that is above limit.
static uint64_t element_count(const FileTensor *t, uint64_t limit) {
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] == 0) return 0;
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] > limit / count) return UINT64_MAX;
        count *= t->shape[d];
    }
    return count;
}

// t's data lies inside the data and is exactly as long as its shape needs.
static bool check_extent(const FileTensor *t, uint64_t data_size, const char *path, Error *err) {
    if (t->end > data_size)
        return error_set(err,
                         "%s: tensor %s: data ends at byte %" PRIu64 " but the file holds "
                         "%" PRIu64 " bytes of data (truncated?)",
                         path, t->name, t->end, data_size);
    uint64_t bytes = t->end - t->begin;
    char shape[128];
    if (bytes % sizeof(float) != 0 || element_count(t, data_size) != bytes / sizeof(float))
        return error_set(err,
                         "%s: tensor %s: shape %s does not fit data_offsets [%" PRIu64 ",%" PRIu64
                         "] of F32",
                         path, t->name, shape_text(shape, t->ndim, t->shape), t->begin, t->end);
    return true;
}

// region: safetensors-layout
// Every tensor inside the data with the size its shape needs; names unique;
// the byte ranges, in order, cover the data exactly: no overlap, no hole.
// Leaves h->tensors sorted by name.
static bool check_layout(Header *h, const char *path, Error *err) {
    for (int i = 0; i < h->count; i++)
        if (!check_extent(&h->tensors[i], h->data_size, path, err)) return false;
    qsort(h->tensors, (size_t)h->count, sizeof *h->tensors, by_offset);
    uint64_t covered = 0; // bytes of data accounted for so far
    for (int i = 0; i < h->count; i++) {
        const FileTensor *t = &h->tensors[i];
        if (t->begin < covered)
            return error_set(err, "%s: tensors %s and %s overlap in the data", path,
                             h->tensors[i - 1].name, t->name);
        if (t->begin > covered)
            return error_set(err, "%s: data bytes %" PRIu64 "..%" PRIu64 " belong to no tensor",
                             path, covered, t->begin);
        covered = t->end;
    }
    if (covered != h->data_size)
        return error_set(err, "%s: %" PRIu64 " bytes after the last tensor's data", path,
                         h->data_size - covered);
    qsort(h->tensors, (size_t)h->count, sizeof *h->tensors, by_name);
    for (int i = 1; i < h->count; i++)
        if (strcmp(h->tensors[i - 1].name, h->tensors[i].name) == 0)
            return error_set(err, "%s: two tensors named %s", path, h->tensors[i].name);
    return true;
}
// endregion: safetensors-layout

// ---- reading -----------------------------------------------------------------------

static void header_free(Header *h) {
    free(h->tensors);
    *h = (Header){0};
}

// The first 8 bytes of in: the header length N, checked against in's size.
static bool read_length(Input *in, uint64_t *n, Error *err) {
    const char *path = in->name;
    uint64_t size = in->size;
    unsigned char bytes[8];
    if (size < 8 || fread(bytes, 1, 8, in->file) != 8)
        return error_set(err, "%s: %" PRIu64 " bytes: too short for a safetensors file", path,
                         size);
    *n = 0;
    for (int b = 7; b >= 0; b--) *n = *n << 8 | bytes[b];
    if (*n > MAX_HEADER)
        return error_set(err,
                         "%s: header length %" PRIu64 " is over the %d bytes allowed "
                         "(not a safetensors file?)",
                         path, *n, MAX_HEADER);
    if (*n > size - 8)
        return error_set(
            err, "%s: header length %" PRIu64 " but only %" PRIu64 " bytes follow (truncated?)",
            path, *n, size - 8);
    return true;
}

// Reads in's header (from the start of in) and checks it into h; with want,
// that metadata key's whole value into *wanted (allocated; NULL when absent). On
// failure returns false with err set, h empty and *wanted NULL.
static bool load_header_wanting(Input *in, Header *h, const char *want, char **wanted, Error *err) {
    *h = (Header){0};
    h->capacity = 8; // grows by doubling; never NULL, as qsort and bsearch require
    h->tensors = xmalloc(sizeof(FileTensor) * (size_t)h->capacity);
    const char *path = in->name;
    uint64_t n = 0;
    bool ok = (fseeko(in->file, 0, SEEK_SET) == 0 || error_set(err, "%s: cannot seek", path)) &&
              read_length(in, &n, err);
    if (ok) {
        char *text = xmalloc(n > 0 ? (size_t)n : 1);
        ok = fread(text, 1, (size_t)n, in->file) == n || error_set(err, "%s: short read", path);
        char *none = NULL;
        Parser p = {.text = text,
                    .length = (size_t)n,
                    .path = path,
                    .err = err,
                    .value = xmalloc((size_t)n + 1),
                    .want = want,
                    .wanted = wanted != NULL ? wanted : &none};
        h->data_start = 8 + n;
        h->data_size = in->size - 8 - n;
        ok = ok && take_header(&p, h) && check_layout(h, path, err);
        free(text);
        free(p.value);
        if (!ok) free(*p.wanted), *p.wanted = NULL;
    }
    if (!ok) header_free(h);
    return ok;
}

static bool load_header(Input *in, Header *h, Error *err) {
    return load_header_wanting(in, h, NULL, NULL, err);
}

// Equal shapes once leading 1s are dropped from both: (1,1,C) matches (C).
static bool same_shape(const FileTensor *t, const TensorEntry *e) {
    int i = 0, j = 0;
    while (i < t->ndim && t->shape[i] == 1) i++;
    while (j < e->ndim && e->shape[j] == 1) j++;
    if (t->ndim - i != e->ndim - j) return false;
    for (; i < t->ndim; i++, j++)
        if (t->shape[i] != (uint64_t)e->shape[j]) return false;
    return true;
}

static const FileTensor *header_find(const Header *h, const char *name) {
    FileTensor key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return bsearch(&key, h->tensors, (size_t)h->count, sizeof key, by_name);
}

// Every tensor of t is in the file with its shape, and the file holds no other.
static bool match_model(const Header *h, const Tensors *t, const char *path, Error *err) {
    for (int i = 0; i < t->count; i++) {
        const TensorEntry *e = &t->entries[i];
        const FileTensor *f = header_find(h, e->name);
        if (f == NULL)
            return error_set(err, "%s: no tensor %s (the model has %d tensors, the file %d)", path,
                             e->name, t->count, h->count);
        uint64_t ours[TENSORS_MAX_DIMS];
        for (int d = 0; d < e->ndim; d++) ours[d] = (uint64_t)e->shape[d];
        char got[128], want[128];
        if (!same_shape(f, e))
            return error_set(err, "%s: tensor %s has shape %s; the model's is %s", path, e->name,
                             shape_text(got, f->ndim, f->shape), shape_text(want, e->ndim, ours));
    }
    // All of t's names are in the file, so among its first t->count + 1 is an extra one.
    for (int i = 0; h->count > t->count && i <= t->count; i++)
        if (tensors_find(t, h->tensors[i].name) == NULL)
            return error_set(err, "%s: tensor %s is not in the model", path, h->tensors[i].name);
    return true;
}

// Tensor f's data into out (count floats), decoded from little-endian.
static bool read_floats(FILE *file, const Header *h, const FileTensor *f, float *out, size_t count,
                        const char *path, Error *err) {
    if (fseeko(file, (off_t)(h->data_start + f->begin), SEEK_SET) != 0 ||
        fread(out, sizeof(float), count, file) != count)
        return error_set(err, "%s: tensor %s: read failed (did the file change?)", path, f->name);
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    unsigned char *bytes = (unsigned char *)out; // each float decoded in place
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
                        (uint32_t)bytes[4 * i + 2] << 16 | (uint32_t)bytes[4 * i + 3] << 24;
        memcpy(&out[i], &bits, sizeof bits);
    }
#endif // on a little-endian machine the file's bytes are its floats already
    return true;
}

bool safetensors_read_meta(const char *path, SafetensorsMeta *meta, Error *err) {
    Input in;
    if (!input_open_file(&in, path, err)) return false;
    bool ok = safetensors_read_meta_from(&in, meta, err);
    input_close(&in);
    return ok;
}

bool safetensors_read_meta_from(Input *in, SafetensorsMeta *meta, Error *err) {
    Header h;
    if (!load_header(in, &h, err)) return false;
    *meta = h.meta;
    meta->data_bytes = h.data_size;
    header_free(&h);
    return true;
}

bool safetensors_read_meta_text(Input *in, const char *key, char **value, Error *err) {
    *value = NULL;
    Header h;
    if (!load_header_wanting(in, &h, key, value, err)) return false;
    header_free(&h);
    return true;
}

bool safetensors_read(const char *path, Tensors *t, Error *err) {
    Input in;
    if (!input_open_file(&in, path, err)) return false;
    bool ok = safetensors_read_from(&in, t, err);
    input_close(&in);
    return ok;
}

// Nothing of t is touched unless the whole header checks out; only a failing
// read (the file changing underneath) can leave t partly filled.
bool safetensors_read_from(Input *in, Tensors *t, Error *err) {
    assert(t->memory != NULL || t->count == 0);
    Header h;
    if (!load_header(in, &h, err)) return false;
    bool ok = match_model(&h, t, in->name, err);
    for (int i = 0; ok && i < t->count; i++) {
        const TensorEntry *e = &t->entries[i];
        ok = read_floats(in->file, &h, header_find(&h, e->name), t->memory + e->offset, e->count,
                         in->name, err);
    }
    header_free(&h);
    return ok;
}
