/* The journal's line format, shared by the store and the reader in journal_file.c: validation,
 * escaping, formatting and parsing of one record line (see docs/journal-format.md). Pure
 * functions on memory: no I/O, no allocation, no logging. Not part of the public interface. */
#ifndef MINISUP_JOURNAL_FORMAT_H
#define MINISUP_JOURNAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal_file.h"

/* Checks what the format cannot represent: a bad unit name or invocation id (-EINVAL), a
 * priority outside 0..7 or an unknown stream (-EINVAL), a negative pid (-EINVAL), a message over
 * JOURNAL_MESSAGE_MAX (-EMSGSIZE). journal_record_format() assumes a record that passed. */
int journal_record_validate(const struct journal_record *r);

/* journal_record_validate() over a batch, checking each distinct unit and invocation pointer
 * once. Returns the first error. */
int journal_records_validate(const struct journal_record *recs, size_t n);

/* An upper bound of journal_record_format()'s length for r, computed without scanning the
 * message; formatting into a buffer at least this large never needs a second pass. */
size_t journal_record_format_bound(const struct journal_record *r);

/* Formats a chain of records of one batch as their lines, one after the other, into buf, which
 * has room for the sum of their journal_record_format_bound(): recs[first], recs[next[first]],
 * ... until SIZE_MAX, record i with seq first_seq + i (the records' own seq is not read).
 * Returns the length. The result is byte for byte that of journal_record_format() on each;
 * fields that consecutive records share are formatted once, and the checksums of several lines
 * are computed together. */
size_t journal_records_format(const struct journal_record *recs, size_t first, const size_t *next,
                              uint64_t first_seq, char *buf);

/* Checks a line's checksum and reads its realtime and seq fields, without copying anything.
 * `len` excludes the '\n'. Returns 0 or -EBADMSG. The reader uses it to order and filter lines
 * before it parses the few it hands out. */
int journal_line_peek(const char *line, size_t len, uint64_t *ret_realtime, uint64_t *ret_seq);

/* journal_record_parse(), with the checksum check optional for lines journal_line_peek()
 * already accepted. */
int journal_line_parse(const char *line, size_t len, char *scratch, struct journal_record *ret,
                       bool verify);

#endif
