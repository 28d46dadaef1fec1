/* test_resize: --resize (ppo/pixels.h) against the real OpenCV: every case of
 * tests/data/resize/inter_area.json (scripts/resize_reference.py: cv2.resize INTER_AREA of uint8
 * frames, OpenCV 4.6.0, and Gymnasium's ResizeObservation -> GrayscaleObservation wrappers) must come
 * out byte for byte, through pix_resize and through the frame stack the trainer fills. Inputs: the
 * CarRacing-v3 frames of tests/data/car_racing/frames.json and random frames stored in the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "ppo/pixels.h"
#include "reference.h"

#ifndef RESIZE_JSON
#error "RESIZE_JSON must name tests/data/resize/inter_area.json"
#endif

static int b64val(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    return ch == '+' ? 62 : (ch == '/' ? 63 : -1);
}

/* Standard base64 (with '=' padding) into exactly n bytes; 0 when the text does not hold n bytes. */
static int from_b64(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != (n + 2) / 3 * 4)
        return 0;
    size_t k = 0;
    for (size_t i = 0; s[i]; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++)
            v[j] = s[i + j] == '=' ? 0 : b64val(s[i + j]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
            return 0;
        const uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        for (int j = 0; j < 3 && k < n; j++)
            out[k++] = (uint8_t)(w >> (16 - 8 * j));
    }
    return k == n;
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : (ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1);
}

/* Input i of the file as floats 0..255, the env's form: stored, or a frame of frames.json. */
static float *load_input(const cJSON *in, const cJSON *car_frames, int *h, int *w, int *c)
{
    const cJSON *shape = ref_get(in, "shape");
    *h = (int)ref_num(ref_at(shape, 0));
    *w = (int)ref_num(ref_at(shape, 1));
    *c = (int)ref_num(ref_at(shape, 2));
    const size_t n = (size_t)*h * (size_t)*w * (size_t)*c;
    uint8_t *bytes = malloc(n);
    float *obs = malloc(sizeof(float) * n);
    int ok = bytes && obs;
    if (ok && ref_get(in, "b64"))
        ok = from_b64(cJSON_GetStringValue(ref_get(in, "b64")), bytes, n);
    else if (ok) {
        const char *hex = cJSON_GetStringValue(ref_get(ref_at(car_frames, (int)ref_num(ref_get(in, "frames_json_index"))), "pixels"));
        ok = hex && strlen(hex) == 2 * n;
        for (size_t k = 0; ok && k < n; k++) {
            const int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
            ok = hi >= 0 && lo >= 0;
            bytes[k] = (uint8_t)(hi * 16 + lo);
        }
    }
    for (size_t k = 0; ok && k < n; k++)
        obs[k] = bytes[k];
    free(bytes);
    if (!ok) {
        free(obs);
        return NULL;
    }
    return obs;
}

static int count_diff(const uint8_t *a, const uint8_t *b, size_t n, int *maxd)
{
    int d = 0;
    for (size_t k = 0; k < n; k++) {
        const int e = abs((int)a[k] - (int)b[k]);
        d += e != 0;
        if (e > *maxd)
            *maxd = e;
    }
    return d;
}

/* The path cv::resize takes, as pix_stack_init chose it. */
static const char *path_name(const pix_stack *p)
{
    if (p->height == p->env_height && p->width == p->env_width)
        return "copy";
    if (p->scale_x)
        return p->scale_x == 2 && p->scale_y == 2 && p->env_channels != 2 ? "2x2 (sum+2)>>2" : "whole ratio";
    return "area tables";
}

/* Time of the trainer's per-step work for zoo's CarRacing input: resize 96 -> 64, gray, 2-frame stack. */
static void bench(const float *obs)
{
    static pix_stack p;
    pix_stack_init(&p, 96, 96, 3, 2, true, 64);
    static uint8_t stack[64 * 64 * 2];
    pix_stack_reset(&p, stack, obs);
    const int reps = 200;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++)
        pix_stack_push(&p, stack, obs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / reps / 1e3;
    printf("resize 96->64 + gray + 2-frame stack: %.1f us per frame (not a check; the machine may be loaded)\n", us);
}

int main(void)
{
    FILE *probe = fopen(RESIZE_JSON, "rb");
    if (!probe) {
        printf("SKIP: %s not found\n", RESIZE_JSON);
        return 77;
    }
    fclose(probe);
    /* ref_load reads $PPO_REFERENCE_DIR/<name>: the tests/data folder of this source tree */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", RESIZE_JSON);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return 1;
        *slash = 0;
    }
    setenv("PPO_REFERENCE_DIR", dir, 1);
    cJSON *ref = ref_load("resize/inter_area.json");
    cJSON *car = ref_load("car_racing/frames.json");
    const cJSON *inputs = ref_get(ref, "inputs"), *cases = ref_get(ref, "cases"), *car_frames = ref_get(car, "frames");
    printf("%s\n", cJSON_GetStringValue(ref_get(ref, "source")));
    const int nc = ref_len(cases);
    CHECK(nc > 0 && ref_len(inputs) > 0, "no cases in %s", RESIZE_JSON);
    long total = 0, differ = 0;
    int maxd = 0;
    float *car_obs = NULL;
    for (int k = 0; k < nc; k++) {
        const cJSON *cs = ref_at(cases, k);
        const cJSON *in = ref_at(inputs, (int)ref_num(ref_get(cs, "input")));
        const int size = (int)ref_num(ref_get(cs, "size"));
        const bool gray = cJSON_IsTrue(ref_get(cs, "gray"));
        int h, w, c;
        float *obs = load_input(in, car_frames, &h, &w, &c);
        if (!obs || !pix_resize_fits(h, w, c, size)) {
            CHECK(0, "case %d: bad input or size %d", k, size);
            free(obs);
            continue;
        }
        const int oc = gray ? 1 : c;
        const size_t n = (size_t)size * (size_t)size * (size_t)oc;
        uint8_t *want = malloc(n), *got = malloc(n), *stack = malloc(2 * n);
        if (!want || !got || !stack || !from_b64(cJSON_GetStringValue(ref_get(cs, "b64")), want, n)) {
            CHECK(0, "case %d: out of memory, or the output is not %zu bytes of base64", k, n);
            free(want), free(got), free(stack), free(obs);
            continue;
        }
        pix_stack p;
        pix_stack_init(&p, h, w, c, 1, gray, size);
        int md = 0, d = 0;
        if (!gray) {
            pix_resize(&p, obs, got);
            d = count_diff(got, want, n, &md);
        }
        pix_stack_reset(&p, got, obs); /* the frame as the trainer stacks it */
        const int ds = count_diff(got, want, n, &md);
        CHECK(p.size == n && d == 0 && ds == 0, "%s -> %d%s: %d bytes (%d in the stack) of %zu differ from OpenCV, max %d",
              cJSON_GetStringValue(ref_get(in, "name")), size, gray ? " gray" : "", d, ds, n, md);
        CHECK(pix_stack_newest_matches(&p, got, obs), "case %d: the stack's frame does not match obs", k);
        /* two stacked frames: the resized frame is the newest, after a push the older one too */
        pix_stack q;
        pix_stack_init(&q, h, w, c, 2, gray, size);
        pix_stack_reset(&q, stack, obs);
        pix_stack_push(&q, stack, obs);
        int bad = 0;
        for (size_t px = 0; px < n / (size_t)oc; px++)
            bad += memcmp(stack + px * 2 * (size_t)oc, want + px * (size_t)oc, (size_t)oc) ||
                   memcmp(stack + px * 2 * (size_t)oc + oc, want + px * (size_t)oc, (size_t)oc);
        CHECK(bad == 0 && pix_stack_newest_matches(&q, stack, obs), "case %d: 2-frame stack: %d pixels wrong", k, bad);
        printf("%-38s %2dx%-2d -> %2d%-5s %-15s %6zu bytes, %d differ\n", cJSON_GetStringValue(ref_get(in, "name")),
               h, w, size, gray ? " gray" : "", path_name(&p), n, d + ds);
        total += (long)n * (gray ? 1 : 2);
        differ += d + ds;
        if (md > maxd)
            maxd = md;
        if (!car_obs && h == 96 && w == 96 && c == 3 && ref_get(in, "frames_json_index"))
            car_obs = obs;
        else
            free(obs);
        free(want), free(got), free(stack);
    }
    printf("all cases: %ld of %ld bytes differ from OpenCV (max |difference| %d)\n", differ, total, maxd);
    if (car_obs)
        bench(car_obs);
    free(car_obs);
    cJSON_Delete(ref);
    cJSON_Delete(car);
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
