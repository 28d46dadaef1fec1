/* test_car_racing_frames: renders each scene of tests/data/car_racing/frames.json (Gymnasium's
 * CarRacing-v3 state, recorded with pygame; format in the file's "source") and compares with the 96 x 96
 * observation Gymnasium returned. Prints per frame the share of pixels equal, within +-2 and +-8 on
 * every channel, and the largest channel difference, overall and outside the score digits' box (the
 * renderer does not draw the digits yet). Skips (77) only while the data file is absent. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/car_racing_render.h"
#include "reference.h"

#ifndef CR_FRAMES_JSON
#error "CR_FRAMES_JSON must name tests/data/car_racing/frames.json"
#endif

/* The score text is centred at (60, 750) of the 1000 x 800 surface: a box well around it, in state
 * pixels (x < 17, y >= 84), holds every pixel it can touch (the digits are about 100 x 30 px). */
#define TEXT_X1 17
#define TEXT_Y0 84

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int read_rgb(const cJSON *a, uint8_t rgb[3])
{
    for (int k = 0; k < 3; k++) {
        double v = ref_num(ref_at(a, k));
        if (!(v >= 0 && v <= 255))
            return 0;
        rgb[k] = (uint8_t)v;
    }
    return 1;
}

/* Fills the scene from one frame; returns 0 on a malformed frame. road must hold n_road entries. */
static int read_scene(const cJSON *f, cr_scene *s, cr_road_poly **road)
{
    memset(s, 0, sizeof *s);
    const cJSON *jr = ref_get(f, "road"), *hull = ref_get(f, "hull"), *wheels = ref_get(f, "wheels");
    int n = ref_len(jr);
    *road = calloc(n > 0 ? (size_t)n : 1, sizeof **road);
    if (!*road)
        return 0;
    for (int i = 0; i < n; i++) {
        const cJSON *p = ref_at(jr, i);
        if (ref_len(p) != 11)
            return 0;
        for (int k = 0; k < 8; k++)
            (*road)[i].xy[k / 2][k % 2] = ref_num(ref_at(p, k));
        for (int k = 0; k < 3; k++)
            (*road)[i].rgb[k] = (uint8_t)ref_num(ref_at(p, 8 + k));
    }
    s->road = *road;
    s->n_road = n;
    s->t = ref_num(ref_get(f, "t"));
    if (!read_rgb(ref_get(f, "bg"), s->bg_rgb) || !read_rgb(ref_get(f, "grass"), s->grass_rgb))
        return 0;
    if (ref_len(hull) != 6 || ref_len(wheels) != 4)
        return 0;
    s->hull = (cr_pose){ref_num(ref_at(hull, 0)), ref_num(ref_at(hull, 1)), ref_num(ref_at(hull, 2))};
    s->hull_vx = ref_num(ref_at(hull, 3));
    s->hull_vy = ref_num(ref_at(hull, 4));
    s->hull_omega = ref_num(ref_at(hull, 5));
    for (int w = 0; w < 4; w++) {
        const cJSON *jw = ref_at(wheels, w);
        s->wheel[w] = (cr_pose){ref_num(ref_at(jw, 0)), ref_num(ref_at(jw, 1)), ref_num(ref_at(jw, 2))};
        s->wheel_phase[w] = ref_num(ref_at(jw, 3));
        s->wheel_omega[w] = ref_num(ref_at(jw, 4));
    }
    s->steer = ref_num(ref_get(f, "steer"));
    s->reward = ref_num(ref_get(f, "reward"));
    return isfinite(s->t) && isfinite(s->hull.x) && isfinite(s->reward);
}

typedef struct {
    int n, eq, le2, le8, maxd;
} cr_tally;

static void tally(cr_tally *t, int d)
{
    t->n++;
    t->eq += d == 0;
    t->le2 += d <= 2;
    t->le8 += d <= 8;
    if (d > t->maxd)
        t->maxd = d;
}

int main(void)
{
    FILE *probe = fopen(CR_FRAMES_JSON, "rb");
    if (!probe) {
        printf("SKIP: %s not found (branch cr-ref commits it; this test runs once it is merged)\n", CR_FRAMES_JSON);
        return 77;
    }
    fclose(probe);
    /* ref_load reads $PPO_REFERENCE_DIR/<name>: point it at the data folder of this source tree. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", CR_FRAMES_JSON);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 1;
    *slash = 0;
    setenv("PPO_REFERENCE_DIR", dir, 1);
    cJSON *root = ref_load(slash + 1);
    const cJSON *frames = ref_get(root, "frames");
    const int nf = ref_len(frames);
    CHECK(nf > 0, "no frames in %s", CR_FRAMES_JSON);

    cr_renderer *r = cr_renderer_create();
    if (!r) {
        fprintf(stderr, "cr_renderer_create: out of memory\n");
        return 1;
    }
    static uint8_t out[CR_STATE_H * CR_STATE_W * 3], want[CR_STATE_H * CR_STATE_W * 3];
    cr_tally all = {0}, all_out = {0};
    printf("%-34s %8s %8s %8s %4s %5s | outside digits: %8s %8s %8s %4s\n", "frame", "equal", "+-2", "+-8", "max",
           "!=", "equal", "+-2", "+-8", "max");
    for (int i = 0; i < nf; i++) {
        const cJSON *f = ref_at(frames, i);
        const char *name = cJSON_GetStringValue(ref_get(f, "name"));
        const char *hex = cJSON_GetStringValue(ref_get(f, "pixels"));
        cr_scene s;
        cr_road_poly *road = NULL;
        int ok = read_scene(f, &s, &road) && hex && strlen(hex) == 2 * sizeof want;
        CHECK(ok, "frame %d (%s): malformed", i, name ? name : "?");
        if (!ok) {
            free(road);
            continue;
        }
        for (size_t k = 0; k < sizeof want; k++)
            want[k] = (uint8_t)(hexval(hex[2 * k]) * 16 + hexval(hex[2 * k + 1]));
        cr_render_state_pixels(r, &s, out);
        free(road);
        cr_tally t = {0}, t_out = {0};
        for (int y = 0; y < CR_STATE_H; y++)
            for (int x = 0; x < CR_STATE_W; x++) {
                const uint8_t *a = out + 3 * (y * CR_STATE_W + x), *b = want + 3 * (y * CR_STATE_W + x);
                int d = 0;
                for (int k = 0; k < 3; k++)
                    d = abs(a[k] - b[k]) > d ? abs(a[k] - b[k]) : d;
                tally(&t, d);
                tally(&all, d);
                if (!(x < TEXT_X1 && y >= TEXT_Y0)) {
                    tally(&t_out, d);
                    tally(&all_out, d);
                }
            }
        printf("%-34.34s %7.3f%% %7.3f%% %7.3f%% %4d %5d | %24.3f%% %7.3f%% %7.3f%% %4d\n", name ? name : "?",
               100.0 * t.eq / t.n, 100.0 * t.le2 / t.n, 100.0 * t.le8 / t.n, t.maxd, t.n - t.eq, 100.0 * t_out.eq / t_out.n,
               100.0 * t_out.le2 / t_out.n, 100.0 * t_out.le8 / t_out.n, t_out.maxd);
        /* Reached on the 11 recorded frames: outside the digits' box every pixel equal; overall
         * 99.52-99.60% equal and 99.55-99.63% within +-8, the undrawn digits being 37-44 pixels. */
        CHECK(t_out.eq == t_out.n, "frame %d (%s): %d pixels outside the digits differ (max %d)", i,
              name ? name : "?", t_out.n - t_out.eq, t_out.maxd);
        CHECK(100.0 * t.le8 / t.n >= 99.0, "frame %d (%s): only %.3f%% of pixels within +-8", i, name ? name : "?",
              100.0 * t.le8 / t.n);
    }
    printf("%-34s %7.3f%% %7.3f%% %7.3f%% %4d %5d | %24.3f%% %7.3f%% %7.3f%% %4d\n", "all frames",
           100.0 * all.eq / all.n, 100.0 * all.le2 / all.n, 100.0 * all.le8 / all.n, all.maxd, all.n - all.eq,
           100.0 * all_out.eq / all_out.n,
           100.0 * all_out.le2 / all_out.n, 100.0 * all_out.le8 / all_out.n, all_out.maxd);
    cr_renderer_free(r);
    cJSON_Delete(root);
    return CHECK_DONE();
}
