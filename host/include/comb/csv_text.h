/* CSV output (RFC 4180) for comb export csv and the dashboard's data files:
 * comma-separated, one header row, fields quoted only when they need it. */
#ifndef COMB_CSV_TEXT_H
#define COMB_CSV_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Writes len bytes as one field: quoted (with "" for ") when it holds a
 * comma, quote, CR or LF, or starts/ends with a space; other bytes verbatim. */
void comb_csv_field(FILE *f, const char *s, size_t len);

/* A double with up to 12 significant digits ("%.12g"); NaN and infinities as an
 * empty field. */
void comb_csv_double(FILE *f, double v);

#endif
