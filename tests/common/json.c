/* json: recursive-descent parser over an in-memory copy of the file. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    bool failed;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static bool parse_value(parser *ps, json *out);

static char *parse_string(parser *ps)
{
    ps->p++; /* opening quote */
    const char *start = ps->p;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\' && ps->p < ps->end) {
            c = *ps->p++;
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'u') { ps->p += 4; c = '?'; } /* test data is ASCII */
        }
        if (n + 2 > cap)
            s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    (void)start;
    if (ps->p >= ps->end) {
        ps->failed = true;
        free(s);
        return NULL;
    }
    ps->p++;
    s[n] = 0;
    return s;
}

static bool parse_container(parser *ps, json *out, bool object)
{
    out->type = object ? JSON_OBJECT : JSON_ARRAY;
    ps->p++;
    int cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
        ps->p++;
        return true;
    }
    for (;;) {
        if (out->count == cap) {
            cap = cap ? 2 * cap : 4;
            out->items = realloc(out->items, (size_t)cap * sizeof *out->items);
            if (object)
                out->keys = realloc(out->keys, (size_t)cap * sizeof *out->keys);
        }
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return false;
            out->keys[out->count] = parse_string(ps);
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return false;
            ps->p++;
        }
        memset(&out->items[out->count], 0, sizeof(json));
        if (!parse_value(ps, &out->items[out->count++]))
            return false;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
            ps->p++;
            return true;
        }
        return false;
    }
}

static bool parse_value(parser *ps, json *out)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return false;
    char c = *ps->p;
    if (c == '{' || c == '[')
        return parse_container(ps, out, c == '{');
    if (c == '"') {
        out->type = JSON_STRING;
        out->string = parse_string(ps);
        return out->string != NULL;
    }
    if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
        out->type = JSON_BOOL;
        out->boolean = c == 't';
        ps->p += out->boolean ? 4 : 5;
        return true;
    }
    if (!strncmp(ps->p, "null", 4)) {
        out->type = JSON_NULL;
        ps->p += 4;
        return true;
    }
    if (!strncmp(ps->p, "NaN", 3)) {
        out->type = JSON_NUMBER;
        out->number = 0.0 / 0.0;
        ps->p += 3;
        return true;
    }
    char *end;
    out->type = JSON_NUMBER;
    out->number = strtod(ps->p, &end);
    if (end == ps->p)
        return false;
    ps->p = end;
    return true;
}

json *json_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "json: cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        fprintf(stderr, "json: cannot read %s\n", path);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    parser ps = {buf, buf + n, false};
    json *root = calloc(1, sizeof *root);
    bool ok = parse_value(&ps, root) && !ps.failed;
    free(buf);
    if (!ok) {
        fprintf(stderr, "json: parse error in %s\n", path);
        json_free(root);
        return NULL;
    }
    return root;
}

static void json_free_inner(json *j)
{
    for (int i = 0; i < j->count; i++) {
        json_free_inner(&j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
}

void json_free(json *j)
{
    if (!j)
        return;
    json_free_inner(j);
    free(j);
}

const json *json_get(const json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (int i = 0; i < obj->count; i++)
        if (!strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

const json *json_at(const json *arr, int i)
{
    if (!arr || (arr->type != JSON_ARRAY && arr->type != JSON_OBJECT) || i < 0 || i >= arr->count)
        return NULL;
    return &arr->items[i];
}

double json_num(const json *j)
{
    if (!j)
        return 0.0 / 0.0;
    return j->type == JSON_BOOL ? (double)j->boolean : j->number;
}

json *json_load_reference(const char *name)
{
    const char *dir = getenv("PPO_REFERENCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/reference", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIP: reference data %s not found (it lives in shared/reference beside the clone)\n", path);
        exit(77);
    }
    fclose(f);
    json *j = json_load(path);
    if (!j)
        exit(1);
    return j;
}
