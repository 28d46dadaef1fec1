/* parse: strict decimal number parsing and the nearest option name (see parse.h). */
#include "util/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    const double v = strtod(s, &end);
    if (*end || !isfinite(v)) /* ERANGE with a finite v: an underflow to 0 or a subnormal, both exact enough */
        return false;
    *out = v;
    return true;
}

int parse_edit_distance(const char *a, const char *b)
{
    int prev[64], cur[64];
    const int na = (int)strlen(a), nb = (int)strlen(b);
    if (na >= 63 || nb >= 63)
        return 99;
    for (int j = 0; j <= nb; j++)
        prev[j] = j;
    for (int i = 1; i <= na; i++) {
        cur[0] = i;
        for (int j = 1; j <= nb; j++) {
            const char x = a[i - 1] == '-' ? '_' : a[i - 1], y = b[j - 1] == '-' ? '_' : b[j - 1];
            const int sub = prev[j - 1] + (x != y), del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(nb + 1));
    }
    return prev[nb];
}

const char *parse_nearest(const char *name, const char *const *names, int n)
{
    int best = -1, best_d = 99;
    for (int k = 0; k < n; k++) {
        const int d = parse_edit_distance(name, names[k]);
        if (d < best_d)
            best = k, best_d = d;
    }
    const int len = (int)strlen(name), allowed = len < 6 ? 1 : len < 12 ? 2 : 3;
    return best >= 0 && best_d <= allowed ? names[best] : NULL;
}

void parse_printable(const char *text, char *out, size_t len)
{
    size_t n = 0;
    for (; text[n] && n + 1 < len; n++)
        out[n] = text[n] >= 0x20 && text[n] < 0x7f ? text[n] : '?';
    out[n] = 0;
}
