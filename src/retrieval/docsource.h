/* docsource.h — corpus inputs (files or archives) as a stream of documents
 * with provenance: the front end of `mnemo ingest`.
 *
 * An input is read through libarchive: tar (any compression), zip, a single
 * compressed file (.gz, .zst, .xz, .bz2, .lz4, .Z) or a plain file.  Each
 * regular member is dispatched on its name:
 *   .jsonl / .ndjson        one document per line: a JSON object whose text
 *                           field (default "text") is the document and whose
 *                           id field (default "id"; string or integer) is its
 *                           id, else "MEMBER:LINE" is synthesized
 *   .txt / .md              the whole member is one document, id = its name
 *   .wet / .warc.wet        Common Crawl WET: one document per conversion
 *                           record, id = WARC-Record-ID (see wet.h)
 * optionally followed by a compression suffix (a member "x.jsonl.gz" inside
 * a tar is decompressed on the fly).  Other members (and directories,
 * links, macOS "._*" resource forks) are skipped and counted.  A top-level
 * file that is no archive and has none of these names is an error.  The
 * container is told by content, except that data starting with a zero
 * block (which libarchive takes for an empty tar) is an empty tar only when
 * the name says tar (.tar, .tar.gz, .tgz, ...); otherwise it is read as one
 * (maybe compressed) file of the type its name gives.
 *
 * Everything streams: memory is bounded by opts.max_record (one line, one
 * WET body, one .txt member) plus libarchive's buffers, whatever the file
 * size.  Order is deterministic: archive order, then line/record order.
 * Texts are valid UTF-8 (may contain U+0000), leading UTF-8 BOMs are
 * dropped, empty members yield nothing (a JSONL record whose text is ""
 * is delivered, with len 0).
 *
 * Errors name "SOURCE: member 'M': line L: reason" (no member part for
 * plain and single compressed files; "record N at byte X" for WET).  Record
 * errors (bad JSON, missing/non-string text, bad id, invalid UTF-8, over
 * max_record, bad or truncated WET record) stop the stream with on_error =
 * DOCSOURCE_FAIL, or are counted in stats.skipped and passed to on_skip
 * with DOCSOURCE_SKIP.  Archive errors (corrupt or truncated compression or
 * container) always stop the stream; every document before the damage has
 * been delivered.
 *
 * Non-goals: chunking, dedup, tokenizing (ingest does that), 7z/rar/cpio,
 * nested archives (a tar inside a tar), program-based filters (lrzip, lzop,
 * grzip) that would spawn processes. */
#ifndef MNEMO_RETRIEVAL_DOCSOURCE_H
#define MNEMO_RETRIEVAL_DOCSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h" /* mn_err */

typedef struct docsource docsource;

typedef enum { DOCSOURCE_FAIL = 0, DOCSOURCE_SKIP = 1 } docsource_on_error;

typedef struct docsource_opts {
    const char *text_field; /* JSONL text field; NULL = "text" */
    const char *id_field;   /* JSONL id field; NULL = "id", "" = never read ids */
    docsource_on_error on_error;
    size_t max_record;      /* longest line / WET body / text member; 0 = 64 MiB */
    /* Called (if set) for every record skipped with DOCSOURCE_SKIP, with
     * the same message FAIL would have returned; why is valid during the
     * call only.  The library itself never prints. */
    void (*on_skip)(void *ctx, const mn_err *why);
    void *skip_ctx;
} docsource_opts;

#define DOCSOURCE_MAX_RECORD_DEFAULT ((size_t)64 << 20)

typedef enum { DOC_JSONL = 1, DOC_TEXT = 2, DOC_WET = 3 } doc_kind;

/* One document.  Every pointer is borrowed from the docsource and valid
 * until the next docsource_next() or docsource_close(). */
typedef struct docsource_doc {
    const char *text;   /* [len] UTF-8, not necessarily NUL-terminated */
    size_t len;
    const char *id;     /* NUL-terminated, never NULL */
    const char *source; /* the path given to docsource_open */
    const char *member; /* archive member name; NULL for plain and single compressed files */
    doc_kind kind;
    uint64_t line;      /* JSONL: 1-based line number; 0 otherwise */
    uint64_t record;    /* WET: 1-based record number (warcinfo counts); 0 otherwise */
    uint64_t offset;    /* byte offset of the line / record within the decompressed member */
    const char *uri;    /* WET: WARC-Target-URI, else NULL */
} docsource_doc;

typedef struct docsource_stats {
    uint64_t docs;            /* documents delivered */
    uint64_t members;         /* members read as documents (jsonl/txt/md/wet) */
    uint64_t members_other;   /* members skipped: other names, directories, links */
    uint64_t skipped;         /* bad records skipped under DOCSOURCE_SKIP */
    uint64_t records_ignored; /* WET records that are not documents (warcinfo, ...) */
    uint64_t bytes;           /* decompressed member bytes read */
    uint64_t input_bytes;     /* bytes of the input file consumed (compressed; for progress) */
    size_t peak_buffer;       /* largest record buffer allocated, bytes */
} docsource_stats;

/* Fill opts with the defaults (text/id fields "text"/"id", FAIL, 64 MiB). */
void docsource_opts_default(docsource_opts *opts);

/* Open the file at path (opts may be NULL for the defaults; it is copied,
 * the field names too).  Only the container is probed here; member errors
 * come from docsource_next().  Caller closes *out with docsource_close().
 * Errors: MN_EIO (cannot open / a directory), MN_EUSAGE (bad opts). */
int docsource_open(const char *path, const docsource_opts *opts, docsource **out, mn_err *err);

/* Same over buf[0..len) (borrowed until close; not copied); name stands for
 * the path in messages and decides the type of a non-archive input.
 * Used by the fuzzer and the tests. */
int docsource_open_memory(const char *name, const void *buf, size_t len, const docsource_opts *opts,
                          docsource **out, mn_err *err);

/* Next document into *out.  Returns 1 (a document), 0 at the end, or a
 * negative code with err filled:
 *   MN_EFORMAT       record errors (see above) under DOCSOURCE_FAIL; corrupt
 *                    or truncated archive / compression (always)
 *   MN_ERANGE        a line / WET body / text member over max_record
 *                    (under DOCSOURCE_FAIL)
 *   MN_EIO           read error of the underlying file
 *   MN_EUNSUPPORTED  a top-level file that is neither an archive nor a known
 *                    document type; an encrypted archive member
 * After an error or the end, every later call returns the same result. */
int docsource_next(docsource *ds, docsource_doc *out, mn_err *err);

/* Counters so far (valid at any time, also after an error). */
void docsource_stats_get(const docsource *ds, docsource_stats *out);

/* Close; NULL is fine.  Invalidates every borrowed pointer. */
void docsource_close(docsource *ds);

#endif
