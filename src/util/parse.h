/* parse: strict decimal number parsing for options (command line, INI, env options, ppo eval).
 * Strict: no leading or trailing space, no '+', no hex, no inf/nan, so a typo is an error rather
 * than a different number. Not a general-purpose number reader. */
#ifndef PPO_UTIL_PARSE_H
#define PPO_UTIL_PARSE_H

#include <stdbool.h>

/* An integer in [lo, hi] written as [-]digits; false (out untouched) otherwise. */
bool parse_integer(const char *s, long long lo, long long hi, long long *out);

/* A finite number written as [-]digits[.digits][e[+-]digits] (or [-].digits...); false otherwise. */
bool parse_number(const char *s, double *out);

#endif
