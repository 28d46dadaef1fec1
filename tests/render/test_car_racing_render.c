/* test_car_racing_render: the renderer's properties that the reference frames do not show: a reused
 * renderer draws each scene as a fresh one does (nothing of the previous frame left, e.g. where the
 * zoomed-out field leaves black), the black margins of the zoom-out, and scenes with NaN or huge
 * values are drawn without a fault (run it under PPO_SANITIZE for undefined behaviour). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "envs/car_racing_render.h"

#define NPIX (CR_STATE_H * CR_STATE_W * 3)

static cr_road_poly road[40];

static cr_scene make_scene(double t, double angle)
{
    for (int i = 0; i < 40; i++) { /* a straight road along y through the car, 40 tiles of 3.5 x 6.7 */
        const double y0 = -70 + 3.5 * i, y1 = y0 + 3.5;
        const double xy[4][2] = {{-3.3, y0}, {3.3, y0}, {3.3, y1}, {-3.3, y1}};
        memcpy(road[i].xy, xy, sizeof xy);
        road[i].rgb[0] = road[i].rgb[1] = road[i].rgb[2] = (uint8_t)(102 + 10 * (i % 2));
    }
    cr_scene s = {.t = t, .road = road, .n_road = 40, .bg_rgb = {102, 204, 102}, .grass_rgb = {102, 230, 102}};
    s.hull = (cr_pose){0.5, 3.0, angle};
    s.hull_vx = 1, s.hull_vy = 12, s.hull_omega = 0.3, s.steer = 0.1, s.reward = 3;
    for (int w = 0; w < 4; w++) {
        s.wheel[w] = (cr_pose){0.5 + cr_wheel_pos[w][0] * CR_SIZE, 3.0 + cr_wheel_pos[w][1] * CR_SIZE, angle};
        s.wheel_phase[w] = 1.0 + w;
        s.wheel_omega[w] = 20;
    }
    return s;
}

int main(void)
{
    static uint8_t a[NPIX], b[NPIX], c[NPIX];
    cr_renderer *r1 = cr_renderer_create(), *r2 = cr_renderer_create();
    if (!r1 || !r2)
        return 1;

    /* Zoomed in, then zoomed out (t = 0: the field is 400 px wide, black around it) on one renderer;
     * the second frame must equal a fresh renderer's. */
    cr_scene in = make_scene(2.0, 0.3), out = make_scene(0.0, 0.3);
    cr_render_state_pixels(r1, &in, a);
    cr_render_state_pixels(r1, &out, b);
    cr_render_state_pixels(r2, &out, c);
    CHECK(memcmp(b, c, NPIX) == 0, "a reused renderer's zoomed-out frame differs from a fresh one's");
    CHECK(memcmp(a, b, NPIX) != 0, "zoomed in and out look the same");
    /* At t = 0 the field spans 333 * 0.6 = 200 px each way of the car, which is drawn at (500, 200)
     * before the flip, so at state pixel (48, 72) after it: the top-left pixel is black, (48, 60) not. */
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0, "zoomed out: top-left pixel %d %d %d, want black", b[0], b[1], b[2]);
    const uint8_t *mid = b + 3 * (60 * CR_STATE_W + 48);
    CHECK(mid[0] || mid[1] || mid[2], "zoomed out: the field is missing");
    /* And back: the zoomed-in frame again equals the first. */
    cr_render_state_pixels(r1, &in, c);
    CHECK(memcmp(a, c, NPIX) == 0, "the same scene drawn twice differs");

    /* Faulty values: drawn without a fault (the output is not specified). */
    cr_scene bad = make_scene(NAN, NAN);
    bad.hull.x = INFINITY;
    bad.hull_vx = NAN;
    bad.wheel_phase[0] = INFINITY;
    bad.wheel[1].x = -1e300;
    bad.steer = 1e308;
    road[3].xy[2][0] = NAN;
    road[4].xy[1][1] = 1e200;
    cr_render_state_pixels(r1, &bad, c);
    bad = make_scene(1e9, 1e9);
    cr_render_state_pixels(r1, &bad, c);

    cr_renderer_free(r1);
    cr_renderer_free(r2);
    cr_renderer_free(NULL);
    return CHECK_DONE();
}
