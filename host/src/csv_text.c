/* CSV fields (include/comb/csv_text.h). */
#include "comb/csv_text.h"

#include <math.h>
#include <stdbool.h>

void comb_csv_field(FILE *f, const char *s, size_t len)
{
    bool quote = len && (s[0] == ' ' || s[len - 1] == ' ');
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

void comb_csv_double(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.12g", v);
}
