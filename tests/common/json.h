/* json: a minimal read-only JSON parser for test data (golden traces). Not for production input. */
#ifndef PPO_TESTS_JSON_H
#define PPO_TESTS_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json {
    json_type type;
    bool boolean;
    double number;
    char *string;       /* JSON_STRING value, or NULL */
    char **keys;        /* JSON_OBJECT: count keys, parallel to items */
    struct json *items; /* JSON_ARRAY / JSON_OBJECT children */
    int count;
} json;

/* Parses the file at path; NULL (with a message on stderr) on failure. */
json *json_load(const char *path);
void json_free(json *j);

const json *json_get(const json *obj, const char *key); /* NULL when absent or not an object */
const json *json_at(const json *arr, int i);            /* NULL when out of range */
double json_num(const json *j);                         /* number, or bool as 0/1 */

/* Opens $PPO_REFERENCE_DIR/<name> (default ../shared/reference); exits 77 (ctest skip) with a message
 * when the reference data is absent, as in a user's clone. */
json *json_load_reference(const char *name);

#endif
