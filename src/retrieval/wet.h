/* wet.h — Common Crawl WET files (WARC/1.0 "conversion" records holding the
 * plain text extracted from each crawled page) as a stream of documents.
 *
 * A record is a version line ("WARC/1.0"), header lines "Name: value" up to
 * an empty line, then exactly Content-Length bytes of body, then blank
 * lines.  Conversion records become documents (text = body, id =
 * WARC-Record-ID without its angle brackets, else WARC-Target-URI); the
 * warcinfo record at the start of every WET file and any other type are
 * skipped and counted.  Records are numbered from 1 in file order, counting
 * every record.  A body shorter than its Content-Length is a truncated
 * record; after a malformed header the reader re-synchronises on the next
 * line that starts with "WARC/", so a caller that skips bad records loses
 * only those.
 *
 * Non-goals: WARC response/request records with HTTP payloads, digests,
 * segmented records, reading the bytes (linereader does that). */
#ifndef MNEMO_RETRIEVAL_WET_H
#define MNEMO_RETRIEVAL_WET_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/linereader.h" /* linereader */
#include "util/err.h"             /* mn_err */

typedef struct wet_reader {
    uint64_t record;  /* records started so far (the current one's number) */
    uint64_t ignored; /* non-conversion records skipped */
    int resync;       /* after a bad header: skip lines until "WARC/" */
    char *id, *uri;   /* owned copies of the current record's headers */
} wet_reader;

typedef struct wet_record {
    const char *text; /* [len] body, borrowed until the next wet_reader_next */
    size_t len;
    const char *id;   /* record id, else URI, else NULL; borrowed likewise */
    const char *uri;  /* WARC-Target-URI or NULL */
    uint64_t record;  /* 1-based record number in the stream */
    uint64_t offset;  /* stream offset of the record's version line */
} wet_record;

/* Start a reader for one stream (one archive member). */
void wet_reader_init(wet_reader *w);

/* Release the header copies; w may be re-initialised afterwards. */
void wet_reader_free(wet_reader *w);

/* Next conversion record from lr.  Returns 1 (record in *out), 0 at the
 * end of the stream, LR_ESOURCE when lr's source failed (its text is the
 * source's business), or a record error with err = "record N at byte X:
 * reason" and the stream positioned to continue with the next record:
 *   MN_EFORMAT  missing or unreadable version line / header / Content-Length,
 *               truncated record, body not UTF-8 ("invalid UTF-8 at byte K
 *               of the body")
 *   MN_ERANGE   header line or body over lr->max bytes, header block over
 *               1 MiB
 * Text bodies must be UTF-8; it may hold U+0000. */
int wet_reader_next(wet_reader *w, linereader *lr, wet_record *out, mn_err *err);

#endif
