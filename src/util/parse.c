/* parse: strict decimal number parsing (see parse.h). */
#include "util/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool parse_integer(const char *s, long long lo, long long hi, long long *out)
{
    const char *p = s + (*s == '-');
    if (!is_digit(*p))
        return false;
    while (is_digit(*p))
        p++;
    if (*p)
        return false;
    char *end;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool parse_number(const char *s, double *out)
{
    /* the syntax first: strtod alone would take " 8", "+8", "0x10", "inf" and "nan" */
    const char *p = s + (*s == '-');
    int digits = 0;
    while (is_digit(*p))
        p++, digits++;
    if (*p == '.')
        for (p++; is_digit(*p); p++)
            digits++;
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if (*p)
        return false;
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (*end || !isfinite(v) || (errno == ERANGE && v != 0.0))
        return false;
    *out = v;
    return true;
}
