/* parse: strict decimal number parsing for options (command line, INI, env options, ppo eval), the
 * nearest option name to a typo, and option text made safe to echo.
 * Strict: no leading or trailing space, no '+', no hex, no inf/nan, so a typo is an error rather
 * than a different number. Not a general-purpose number reader. */
#ifndef PPO_UTIL_PARSE_H
#define PPO_UTIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* An integer in [lo, hi] written as [-]digits; false (out untouched) otherwise. */
bool parse_integer(const char *s, long long lo, long long hi, long long *out);

/* A number written as [-]digits[.digits][e[+-]digits] (or [-].digits...) that is finite as a double
 * (one too small for a double becomes 0 or a subnormal, as strtod rounds it); false otherwise. */
bool parse_number(const char *s, double *out);

/* Levenshtein distance between two option names, '-' and '_' alike (99 for names of 63+ characters). */
int parse_edit_distance(const char *a, const char *b);

/* The candidate nearest to name when it is close enough to be a typo of it ("did you mean"): within 1
 * edit for names under 6 characters, 2 under 12, else 3; NULL otherwise. */
const char *parse_nearest(const char *name, const char *const *names, int n);

/* text as a one-line message may show it: anything but printable ASCII (a newline could forge a second
 * line) as '?', cut to fit len. */
void parse_printable(const char *text, char *out, size_t len);

#endif
