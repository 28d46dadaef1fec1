/* bench_car_racing_render: time of one CarRacing observation (cr_render_state_pixels: the 1000 x 800
 * canvas drawn, flipped and shrunk to 96 x 96) on a synthetic scene shaped like Gymnasium's: a round
 * track of 300 tiles of TRACK_WIDTH with red-white kerbs on half of them, the car on it at full zoom.
 * Not a test. Run: build/tests/render/bench_car_racing_render [frames] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "envs/car_racing_render.h"

#define N_TILES 300

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const int frames = argc > 1 ? atoi(argv[1]) : 2000;
    static cr_road_poly road[2 * N_TILES];
    const double rad = 900 / 6.0, half_w = 40 / 6.0, border = 8 / 6.0;
    int n = 0;
    for (int i = 0; i < N_TILES; i++) { /* tile i, then its kerb (car_racing.py's road_poly order) */
        double a0 = 2 * M_PI * i / N_TILES, a1 = 2 * M_PI * (i + 1) / N_TILES;
        double r_in = rad - half_w, r_out = rad + half_w;
        cr_road_poly *t = &road[n++];
        double xy[4][2] = {{r_in * cos(a0), r_in * sin(a0)}, {r_out * cos(a0), r_out * sin(a0)},
                           {r_out * cos(a1), r_out * sin(a1)}, {r_in * cos(a1), r_in * sin(a1)}};
        for (int k = 0; k < 4; k++)
            t->xy[k][0] = xy[k][0], t->xy[k][1] = xy[k][1];
        t->rgb[0] = t->rgb[1] = t->rgb[2] = (uint8_t)(102 + (i % 3) * 10);
        if (i % 2) {
            cr_road_poly *k = &road[n++];
            double kr = r_out + border;
            double kxy[4][2] = {{r_out * cos(a0), r_out * sin(a0)}, {kr * cos(a0), kr * sin(a0)},
                                {kr * cos(a1), kr * sin(a1)}, {r_out * cos(a1), r_out * sin(a1)}};
            for (int j = 0; j < 4; j++)
                k->xy[j][0] = kxy[j][0], k->xy[j][1] = kxy[j][1];
            k->rgb[0] = 255, k->rgb[1] = k->rgb[2] = (uint8_t)((i % 4) == 1 ? 0 : 255);
        }
    }
    cr_scene s = {.t = 1.5, .road = road, .n_road = n, .bg_rgb = {102, 204, 102}, .grass_rgb = {102, 230, 102}};
    s.hull = (cr_pose){rad, 0.0, 0.3};
    s.hull_vx = 5, s.hull_vy = 20, s.hull_omega = 0.4, s.steer = -0.2, s.reward = 12.5;
    for (int w = 0; w < 4; w++) {
        s.wheel[w] = (cr_pose){rad + cr_wheel_pos[w][0] * CR_SIZE, cr_wheel_pos[w][1] * CR_SIZE, 0.3};
        s.wheel_phase[w] = 0.7 * w;
        s.wheel_omega[w] = 40 + w;
    }
    cr_renderer *r = cr_renderer_create();
    if (!r)
        return 1;
    static uint8_t out[CR_STATE_H * CR_STATE_W * 3];
    unsigned sum = 0;
    for (int i = 0; i < 20; i++) /* warm-up */
        cr_render_state_pixels(r, &s, out);
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < frames; i++) {
        s.hull.angle = 0.3 + 1e-3 * i; /* a moving camera, as in training */
        cr_render_state_pixels(r, &s, out);
        sum += out[(i * 97) % sizeof out];
    }
    double dt = now_s(CLOCK_MONOTONIC) - t0, dc = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    /* CPU time is the steadier figure on a shared machine (wall time counts waits for a core). */
    printf("%d frames: %.0f ns per frame wall (%.0f frames/s), %.0f ns CPU; checksum %u\n", frames,
           1e9 * dt / frames, frames / dt, 1e9 * dc / frames, sum);
    cr_renderer_free(r);
    return 0;
}
