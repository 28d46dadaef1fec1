/* reference: loads the Gymnasium reference data (the JSON files in shared/reference/) with Debian's cJSON for the
 * tests that compare against it, and skips those tests when the data is absent. Not for production input. */
#ifndef PPO_TESTS_REFERENCE_H
#define PPO_TESTS_REFERENCE_H

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads and parses $PPO_REFERENCE_DIR/<name> (default ../shared/reference); exits 77 (ctest skip) with
 * a message when the reference data is absent, as in a user's clone, and 1 when it does not parse. */
static inline cJSON *ref_load(const char *name)
{
    const char *dir = getenv("PPO_REFERENCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/reference", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIP: reference data %s not found (it lives in shared/reference beside the clone)\n", path);
        exit(77);
    }
    char *text = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)n + 1)) && fread(text, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    if (!text || n < 0) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    text[n] = 0;
    cJSON *root = cJSON_ParseWithLength(text, (size_t)n);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        fprintf(stderr, "%s: invalid JSON at byte %ld\n", path, at ? (long)(at - text) : -1L);
        exit(1);
    }
    free(text);
    return root;
}

/* A number, or a bool as 0/1; NaN when j is NULL or neither (so a missing field fails a comparison). */
static inline double ref_num(const cJSON *j)
{
    if (cJSON_IsBool(j))
        return cJSON_IsTrue(j) ? 1.0 : 0.0;
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* Shorthands: a member by exact key, an element by index (NULL when absent), an array's length. */
static inline const cJSON *ref_get(const cJSON *obj, const char *key) { return cJSON_GetObjectItemCaseSensitive(obj, key); }
static inline const cJSON *ref_at(const cJSON *arr, int i) { return cJSON_GetArrayItem(arr, i); }
static inline int ref_len(const cJSON *arr) { return cJSON_GetArraySize(arr); }

#endif
