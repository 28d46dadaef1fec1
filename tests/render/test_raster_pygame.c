/* test_raster_pygame: render/raster against pygame itself on random polygons (tests/data/render/
 * raster_pygame.json, written by make_raster_reference.py with pygame 2.1.2): each case's 150
 * operations replayed on a 120 x 90 canvas must give pygame's pixels exactly, and the flipped canvas
 * shrunk to 23 x 17 pygame's smoothscale bytes exactly. Skips (77) only when the file is absent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reference.h"
#include "render/raster.h"

#ifndef RASTER_PYGAME_JSON
#error "RASTER_PYGAME_JSON must name tests/data/render/raster_pygame.json"
#endif

#define W 120
#define H 90
#define SW 23
#define SH 17

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Counts the bytes of have that differ from the hex string want (n bytes); -1 when want is malformed. */
static long count_diff(const uint8_t *have, const char *want, size_t n)
{
    if (!want || strlen(want) != 2 * n)
        return -1;
    long d = 0;
    for (size_t i = 0; i < n; i++)
        d += have[i] != (uint8_t)(hexval(want[2 * i]) * 16 + hexval(want[2 * i + 1]));
    return d;
}

int main(void)
{
    FILE *probe = fopen(RASTER_PYGAME_JSON, "rb");
    if (!probe) {
        printf("SKIP: %s not found\n", RASTER_PYGAME_JSON);
        return 77;
    }
    fclose(probe);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", RASTER_PYGAME_JSON);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 1;
    *slash = 0;
    setenv("PPO_REFERENCE_DIR", dir, 1);
    cJSON *root = ref_load(slash + 1);
    const cJSON *cases = ref_get(root, "cases");
    CHECK(ref_len(cases) > 0, "no cases");

    static uint32_t px[W * H];
    static uint8_t rgb[W * H * 3], tmp[H * SW * 3], shrunk[SW * SH * 3];
    static uint16_t line[SW * 3];
    for (int ci = 0; ci < ref_len(cases); ci++) {
        const cJSON *c = ref_at(cases, ci), *ops = ref_get(c, "ops");
        raster_canvas cv = {px, W, H, W};
        raster_clear(cv, 0);
        int n_ops = ref_len(ops), bad_ops = 0;
        for (int oi = 0; oi < n_ops; oi++) {
            const cJSON *op = ref_at(ops, oi), *pts = ref_get(op, "points"), *col = ref_get(op, "rgb");
            const char *kind = cJSON_GetStringValue(ref_get(op, "kind"));
            const int n = ref_len(pts);
            if (!kind || n < 3 || n > RASTER_MAX_POLY || ref_len(col) != 3) {
                bad_ops++;
                continue;
            }
            const uint32_t colour =
                raster_rgb((int)ref_num(ref_at(col, 0)), (int)ref_num(ref_at(col, 1)), (int)ref_num(ref_at(col, 2)));
            int16_t gx[RASTER_MAX_POLY], gy[RASTER_MAX_POLY];
            int ix[RASTER_MAX_POLY], iy[RASTER_MAX_POLY];
            for (int k = 0; k < n; k++) {
                double x = ref_num(ref_at(ref_at(pts, k), 0)), y = ref_num(ref_at(ref_at(pts, k), 1));
                gx[k] = raster_gfx_coord(x);
                gy[k] = raster_gfx_coord(y);
                ix[k] = raster_pg_coord(x);
                iy[k] = raster_pg_coord(y);
            }
            if (!strcmp(kind, "aa") || !strcmp(kind, "both"))
                raster_gfx_aapolygon(cv, gx, gy, n, colour);
            if (!strcmp(kind, "fill") || !strcmp(kind, "both"))
                raster_gfx_filled_polygon(cv, gx, gy, n, colour);
            if (!strcmp(kind, "pg"))
                raster_pg_polygon(cv, ix, iy, n, colour);
        }
        CHECK(bad_ops == 0, "case %d: %d malformed operations", ci, bad_ops);
        for (int i = 0; i < W * H; i++) {
            rgb[3 * i + 0] = (uint8_t)(px[i] >> 16);
            rgb[3 * i + 1] = (uint8_t)(px[i] >> 8);
            rgb[3 * i + 2] = (uint8_t)px[i];
        }
        long d_px = count_diff(rgb, cJSON_GetStringValue(ref_get(c, "pixels")), sizeof rgb);
        raster_smoothscale_shrink(raster_canvas_flipped(cv), SW, SH, 14, tmp, line, shrunk);
        long d_sh = count_diff(shrunk, cJSON_GetStringValue(ref_get(c, "shrunk")), sizeof shrunk);
        printf("case %d: %d operations; canvas bytes differing %ld of %zu; shrunk bytes differing %ld of %zu\n", ci,
               n_ops, d_px, sizeof rgb, d_sh, sizeof shrunk);
        CHECK(d_px == 0, "case %d: canvas differs from pygame's", ci);
        CHECK(d_sh == 0, "case %d: smoothscale differs from pygame's", ci);
    }
    cJSON_Delete(root);
    return CHECK_DONE();
}
