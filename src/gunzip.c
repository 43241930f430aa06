// gunzip.c — a strict gzip reader over zlib's inflate (gzread forgives a
// missing trailer and trailing garbage), or plain bytes.
#include "gunzip.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "files.h"

#define GUNZIP_CHUNK (1 << 16)

bool gunzip_open(Gunzip *g, Input *in, Error *err) {
    const char *path = in->name;
    *g = (Gunzip){.file = in->file, .path = path};
    unsigned char magic[2]; // read from the start, however far in was read before
    bool at_start = fseek(g->file, 0, SEEK_SET) == 0;
    g->gzip = at_start && fread(magic, 1, 2, g->file) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!at_start || ferror(g->file) || fseek(g->file, 0, SEEK_SET) != 0)
        return error_set(err, "%s: read failed: %s", path, strerror(errno));
    if (!g->gzip) return true;
    g->in = xmalloc(GUNZIP_CHUNK);
    if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) { // 16: a gzip wrapper, not zlib's
        gunzip_close(g);
        return error_set(err, "%s: cannot start zlib's inflate (out of memory?)", path);
    }
    return true;
}

void gunzip_close(Gunzip *g) {
    if (g->in != NULL) inflateEnd(&g->z);
    free(g->in);
    *g = (Gunzip){0};
}

// More compressed bytes when none are left; false on a read error.
static bool fill(Gunzip *g, Error *err) {
    if (g->z.avail_in > 0 || feof(g->file)) return true;
    size_t got = fread(g->in, 1, GUNZIP_CHUNK, g->file);
    if (ferror(g->file)) return error_set(err, "%s: read failed: %s", g->path, strerror(errno));
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)got;
    return true;
}

static bool input_done(const Gunzip *g) {
    return g->z.avail_in == 0 && feof(g->file);
}

// After a member: the end of the file (*more false), or the start of another member.
static bool next_member(Gunzip *g, bool *more, Error *err) {
    if (!fill(g, err)) return false;
    *more = !input_done(g);
    if (!*more) return true;
    if (g->z.next_in[0] != 0x1f)
        return error_set(err, "%s: trailing data after the end of the gzip stream", g->path);
    inflateReset(&g->z);
    g->member_ended = false;
    return true;
}

// One call of inflate; false (err set) on corrupt or cut-off data.
static bool inflate_some(Gunzip *g, Error *err) {
    int ret = inflate(&g->z, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) g->member_ended = true;
    if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT)
        return error_set(err, "%s: corrupt compressed data (%s)", g->path,
                         g->z.msg != NULL ? g->z.msg : "invalid gzip data");
    if (ret == Z_MEM_ERROR) return error_set(err, "%s: out of memory in zlib's inflate", g->path);
    if (ret == Z_BUF_ERROR && input_done(g))
        return error_set(err, "%s: truncated: the gzip data ends before its trailer", g->path);
    return true;
}

long gunzip_read(Gunzip *g, void *buf, long n, Error *err) {
    assert(n >= 0 && n <= UINT_MAX);
    if (!g->gzip) {
        size_t got = fread(buf, 1, (size_t)n, g->file);
        if (!ferror(g->file)) return (long)got;
        error_set(err, "%s: read failed: %s", g->path, strerror(errno));
        return -1;
    }
    g->z.next_out = buf;
    g->z.avail_out = (uInt)n;
    while (g->z.avail_out > 0) {
        bool more = true;
        if (g->member_ended && !next_member(g, &more, err)) return -1;
        if (!more) break;
        if (!fill(g, err) || !inflate_some(g, err)) return -1;
    }
    return n - (long)g->z.avail_out;
}
