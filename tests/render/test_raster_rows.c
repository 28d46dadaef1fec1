/* test_raster_rows: render/raster's banded forms against the whole-canvas ones. Random scenes of
 * gfx polygons (aapolygon + filled_polygon), pygame polygons and lone Wu lines (steep, shallow,
 * 45 degrees, long, partly or wholly off the canvas) are drawn once on the whole canvas and once band
 * by band (random band heights, from 1 row up); every pixel must agree. Then smoothscale's banded
 * shrink against the one-call shrink, both fraction-bit variants. Own xorshift RNG: the same scenes
 * every run. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "render/raster.h"

#define W 203
#define H 157
#define NPRIM 60

static uint32_t whole[W * H], banded[W * H];

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); } /* [lo, hi] */

typedef struct {
    int kind; /* 0 gfx polygon, 1 pygame polygon, 2 Wu line */
    int n;
    int x[6], y[6];
    uint32_t rgb;
} prim;

static void make_scene(prim *p, int n)
{
    for (int i = 0; i < n; i++) {
        p[i].kind = rnd_in(0, 2);
        p[i].n = p[i].kind == 2 ? 2 : rnd_in(3, 6);
        p[i].rgb = rnd() & 0xffffff;
        const int spread = rnd_in(0, 3) == 0 ? 600 : 150; /* some reach far off the canvas */
        const int cx = rnd_in(-40, W + 40), cy = rnd_in(-40, H + 40);
        for (int k = 0; k < p[i].n; k++) {
            p[i].x[k] = cx + rnd_in(-spread, spread);
            p[i].y[k] = cy + rnd_in(-spread, spread);
        }
        if (p[i].kind == 2 && rnd_in(0, 3) == 0) { /* exact 45 degrees: the Wu step with erradj 0 */
            const int d = rnd_in(1, 300);
            p[i].x[1] = p[i].x[0] + (rnd() & 1 ? d : -d);
            p[i].y[1] = p[i].y[0] + (rnd() & 1 ? d : -d);
        }
    }
}

static void draw(raster_canvas c, raster_rows rows, const prim *p, int n)
{
    raster_clear_rows(c, rows, raster_rgb(30, 60, 90));
    for (int i = 0; i < n; i++) {
        int16_t sx[6], sy[6];
        for (int k = 0; k < p[i].n; k++)
            sx[k] = (int16_t)p[i].x[k], sy[k] = (int16_t)p[i].y[k];
        if (p[i].kind == 0) {
            raster_gfx_aapolygon_rows(c, rows, sx, sy, p[i].n, p[i].rgb);
            raster_gfx_filled_polygon_rows(c, rows, sx, sy, p[i].n, p[i].rgb);
        } else if (p[i].kind == 1) {
            raster_pg_polygon_rows(c, rows, p[i].x, p[i].y, p[i].n, p[i].rgb);
        } else {
            raster_gfx_aaline_rows(c, rows, sx[0], sy[0], sx[1], sy[1], p[i].rgb);
        }
    }
}

static void test_bands(void)
{
    static prim scene[NPRIM];
    for (int trial = 0; trial < 40; trial++) {
        make_scene(scene, NPRIM);
        raster_canvas a = {whole, W, H, W}, b = {banded, W, H, W};
        if (trial & 1) { /* the flipped view too (negative stride) */
            a = raster_canvas_flipped(a);
            b = raster_canvas_flipped(b);
        }
        const raster_rows all = {0, H};
        draw(a, all, scene, NPRIM);
        memset(banded, 0, sizeof banded);
        for (int y0 = 0; y0 < H;) {
            const int step = rnd_in(1, 70), y1 = y0 + step < H ? y0 + step : H;
            draw(b, (raster_rows){y0, y1}, scene, NPRIM);
            y0 = y1;
        }
        int bad = 0;
        for (int i = 0; i < W * H; i++)
            bad += whole[i] != banded[i];
        CHECK(bad == 0, "trial %d: %d pixels differ between whole and banded drawing", trial, bad);
    }
}

static void test_shrink_bands(void)
{
    static uint8_t want[23 * 17 * 3], got[23 * 17 * 3];
    static uint8_t tmp[H * 23 * 3];
    static uint16_t line[23 * 3];
    static raster_shrink sh;
    for (int i = 0; i < W * H; i++)
        whole[i] = rnd() & 0xffffff;
    const raster_canvas c = {whole, W, H, W};
    for (int bits = 14; bits <= 16; bits += 2) {
        raster_smoothscale_shrink(c, 23, 17, bits, tmp, line, want);
        raster_shrink_begin(&sh, W, H, 23, 17, bits);
        for (int y = 0; y < H;) { /* bands of 4k rows, the last whatever is left */
            const int step = 4 * rnd_in(1, 9), y1 = y + step < H ? y + step : H;
            raster_shrink_rows(&sh, c, y1, got);
            y = y1;
        }
        CHECK(!memcmp(want, got, sizeof want), "banded shrink (%d bits) differs from the one-call shrink", bits);
    }
}

int main(void)
{
    test_bands();
    test_shrink_bands();
    return CHECK_DONE();
}
