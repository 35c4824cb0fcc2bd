/*
 * A CSV reader with the rules of Python's csv module (the one Espressif's
 * generators use): comma-separated fields, double-quoted fields may hold
 * commas, newlines and "" for a quote; nothing is trimmed. Lines whose first
 * character is '#' are skipped, as nvs_partition_gen and mfg_gen skip them.
 */
#ifndef ESPSEC_UTIL_CSV_H
#define ESPSEC_UTIL_CSV_H

#include <stddef.h>

#include "espsec/error.h"

#define CSV_MAX_FIELDS 256

typedef struct {
    const char *text;
    size_t len, pos;
    int line;          /* physical line of the next row */
    char *buf;         /* field storage of the current row */
    size_t cap;
    size_t nfields;
    char *fields[CSV_MAX_FIELDS];
    int row_line;      /* line where the current row started */
    int skip_comments; /* skip lines starting with '#' */
} csv_reader_t;

void csv_init(csv_reader_t *r, const char *text, size_t len, int skip_comments);
/** Next row: 1 = a row (r->fields, r->nfields), 0 = end, -1 = error (message in err). Empty lines are skipped. */
int csv_next(csv_reader_t *r, espsec_error_t *err);
void csv_free(csv_reader_t *r);

#endif
