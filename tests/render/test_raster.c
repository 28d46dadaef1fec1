/* test_raster: render/raster's pygame rules on tiny canvases, against pixels worked out by hand from
 * pygame 2.1.2's C source (the derivations are in the comments). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "render/raster.h"

#define MAXW 24

static uint32_t buf[MAXW * MAXW];

static raster_canvas canvas(int w, int h, uint32_t bg)
{
    raster_canvas c = {buf, w, h, w};
    raster_clear(c, bg);
    return c;
}

/* Compares c with a mask: '#' = fg, '.' = bg, one string per row. */
static void check_mask(const char *what, raster_canvas c, const char *const *rows, uint32_t fg, uint32_t bg)
{
    for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++) {
            uint32_t want = rows[y][x] == '#' ? fg : bg, got = c.px[(ptrdiff_t)y * c.stride + x];
            CHECK(got == want, "%s: pixel (%d, %d) is %06x, want %06x", what, x, y, (unsigned)got, (unsigned)want);
        }
}

static void test_gfx_triangle(void)
{
    /* (1,1) (5,1) (1,5). Edge (5,1)-(1,5) at row y: 65536*(y-1)/4*(-4) + 5*65536; the right end is
     * round(v - 1) in 16.16 = 5, 4, 3, 2 for y = 1..4 (v - 1 ends in .99998, rounding up); the
     * bottom row 5 takes both edges ending there: 1..1. */
    const uint32_t fg = raster_rgb(10, 20, 30), bg = raster_rgb(0, 0, 0);
    raster_canvas c = canvas(7, 7, bg);
    const int16_t vx[] = {1, 5, 1}, vy[] = {1, 1, 5};
    raster_gfx_filled_polygon(c, vx, vy, 3, fg);
    const char *want[] = {".......", ".#####.", ".####..", ".###...", ".##....", ".#.....", "......."};
    check_mask("gfx triangle", c, want, fg, bg);
}

static void test_pg_fractional_quad(void)
{
    /* (1.7,1.2) (6.9,1.9) (6.2,5.99) (-0.5,5.5) become (1,1) (6,1) (6,5) (0,5): int() truncates toward
     * zero, -0.5 -> 0. Left edge (1,1)-(0,5): x = (y-1)*(-1)/4 + 1 with C's truncating division gives
     * 1 for y = 1..4 (-3/4 = 0, not -1), and 0 on the bottom row 5. */
    const uint32_t fg = raster_rgb(204, 0, 0), bg = raster_rgb(102, 204, 102);
    raster_canvas c = canvas(8, 7, bg);
    const double fx[] = {1.7, 6.9, 6.2, -0.5}, fy[] = {1.2, 1.9, 5.99, 5.5};
    int vx[4], vy[4];
    for (int i = 0; i < 4; i++) {
        vx[i] = raster_pg_coord(fx[i]);
        vy[i] = raster_pg_coord(fy[i]);
    }
    CHECK(vx[3] == 0 && vy[2] == 5, "truncation: %d %d", vx[3], vy[2]);
    raster_pg_polygon(c, vx, vy, 4, fg);
    const char *want[] = {"........", ".######.", ".######.", ".######.", ".######.", "#######.", "........"};
    check_mask("pg quad", c, want, fg, bg);
}

static void test_off_canvas(void)
{
    /* (-3,-2) (4,-2) (4,3) (-3,3) on 6 x 6: fill rows 0..3, x 0..4 (clipped). Outline: the top and left
     * edges lie outside (rejected), the right edge clips to a vertical line 0..3 at x = 4 and the bottom
     * one to a horizontal line 0..4 at y = 3, both inside the fill. */
    const uint32_t fg = raster_rgb(1, 2, 3), bg = raster_rgb(9, 9, 9);
    raster_canvas c = canvas(6, 6, bg);
    const int16_t vx[] = {-3, 4, 4, -3}, vy[] = {-2, -2, 3, 3};
    raster_gfx_aapolygon(c, vx, vy, 4, fg);
    raster_gfx_filled_polygon(c, vx, vy, 4, fg);
    const char *want[] = {"#####.", "#####.", "#####.", "#####.", "......", "......"};
    check_mask("gfx off canvas", c, want, fg, bg);

    c = canvas(6, 6, bg); /* pygame.draw.polygon of the same quad: the same pixels */
    const int ix[] = {-3, 4, 4, -3}, iy[] = {-2, -2, 3, 3};
    raster_pg_polygon(c, ix, iy, 4, fg);
    check_mask("pg off canvas", c, want, fg, bg);

    c = canvas(6, 6, bg); /* wholly outside: nothing */
    const int16_t ox[] = {-9, -2, -2}, oy[] = {1, 1, 5};
    raster_gfx_aapolygon(c, ox, oy, 3, fg);
    raster_gfx_filled_polygon(c, ox, oy, 3, fg);
    const char *none[] = {"......", "......", "......", "......", "......", "......"};
    check_mask("outside", c, none, fg, bg);
}

static void test_aaline(void)
{
    /* (0,0)-(4,2), x-major: erradj = ((2 << 16) / 4) << 16 = 2^31; 3 inner steps with accumulator
     * 2^31, 0 (rollover: y advances), 2^31, so weights 128, 0, 128. A pixel gets alpha (255 * w) >> 8
     * and dst + floor((src - dst) * alpha / 256): pairs (255-w, w) -> alphas (126, 127), (254, 0).
     * White on black: 125 / 126, 253 / 0. The first end is opaque, the last not drawn. */
    raster_canvas c = canvas(6, 4, 0);
    raster_gfx_aaline(c, 0, 0, 4, 2, raster_rgb(255, 255, 255));
    const int want[4][6] = {
        {255, 125, 0, 0, 0, 0}, {0, 126, 253, 125, 0, 0}, {0, 0, 0, 126, 0, 0}, {0, 0, 0, 0, 0, 0}};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++) {
            uint32_t p = c.px[y * 6 + x];
            CHECK(p == raster_rgb(want[y][x], want[y][x], want[y][x]), "aaline (%d,%d) = %06x, want %d", x, y,
                  (unsigned)p, want[y][x]);
        }
    /* Blending down: colour 100 over 200 at alpha 126 is 200 + floor(-100 * 126 / 256) = 150. */
    c = canvas(6, 4, raster_rgb(200, 200, 200));
    raster_gfx_aaline(c, 0, 0, 4, 2, raster_rgb(100, 100, 100));
    CHECK(c.px[1] == raster_rgb(150, 150, 150), "blend down: %06x", (unsigned)c.px[1]);
}

static void test_flip(void)
{
    raster_canvas c = canvas(3, 3, 0);
    c.px[0] = 1;
    c.px[8] = 2;
    raster_flip_vertical(c);
    CHECK(c.px[6] == 1 && c.px[2] == 2 && c.px[0] == 0, "flip");
    raster_canvas f = raster_canvas_flipped(c); /* the view undoes it */
    CHECK(f.px[0] == 1 && f.px[2 * f.stride + 2] == 2, "flipped view");
}

static void test_smoothscale(void)
{
    /* 20 x 20 -> 2 x 2, both 14 and 16 fraction bits: each output sums 10 whole pixels (the counter
     * lands exactly on one), recip = 2^(16+bits) / (one * 10) = 6553, so f(v) = (10 v * 6553) >> 16
     * per pass: 255 -> 254 -> 253, 100 -> 99 -> 98, 0 -> 0. */
    static uint8_t tmp[20 * 2 * 3], out[2 * 2 * 3];
    static uint16_t line[2 * 3];
    for (int bits = 14; bits <= 16; bits += 2) {
        raster_canvas c = canvas(20, 20, raster_rgb(255, 255, 255));
        raster_smoothscale_shrink(c, 2, 2, bits, tmp, line, out);
        for (int i = 0; i < 12; i++)
            CHECK(out[i] == 253, "uniform 255 (bits %d): byte %d = %d", bits, i, out[i]);
        /* blocks: top-left (255,0,0), top-right (0,100,0), bottom-left a checkerboard 0 / 200 (row sums
         * 1000 -> 99 -> 98), bottom-right black */
        c = canvas(20, 20, 0);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++) {
                uint32_t v = 0;
                if (y < 10 && x < 10)
                    v = raster_rgb(255, 0, 0);
                else if (y < 10)
                    v = raster_rgb(0, 100, 0);
                else if (x < 10)
                    v = ((x + y) & 1) ? raster_rgb(0, 0, 200) : 0;
                c.px[y * 20 + x] = v;
            }
        raster_smoothscale_shrink(c, 2, 2, bits, tmp, line, out);
        const uint8_t want[12] = {253, 0, 0, 0, 98, 0, 0, 0, 98, 0, 0, 0};
        for (int i = 0; i < 12; i++)
            CHECK(out[i] == want[i], "blocks (bits %d): byte %d = %d, want %d", bits, i, out[i], want[i]);
    }
    /* A split pixel: 3 -> 2 with 14 bits: space = 24576, recip = 43690. Row (90, 30, 60): out0 =
     * (90 + (30 * 8192 >> 14)) * 43690 >> 16 = 105 * 43690 >> 16 = 69; out1 = ((30 * 8192 >> 14) + 60)
     * * 43690 >> 16 = 75 * 43690 >> 16 = 49. Y 3 -> 2 of three equal rows r: (r + r/2) * 43690 >> 16. */
    raster_canvas c = canvas(3, 3, 0);
    for (int y = 0; y < 3; y++) {
        c.px[y * 3 + 0] = raster_rgb(90, 0, 0);
        c.px[y * 3 + 1] = raster_rgb(30, 0, 0);
        c.px[y * 3 + 2] = raster_rgb(60, 0, 0);
    }
    raster_smoothscale_shrink(c, 2, 2, 14, tmp, line, out);
    /* Y: 69 -> (69 + (69 * 8192 >> 14)) * 43690 >> 16 = (69 + 34) * 43690 >> 16 = 68;
     *    49 -> (49 + 24) * 43690 >> 16 = 48 */
    CHECK(out[0] == 68 && out[3] == 48 && out[6] == 68 && out[9] == 48, "split: %d %d %d %d", out[0], out[3],
          out[6], out[9]);
}

int main(void)
{
    test_gfx_triangle();
    test_pg_fractional_quad();
    test_off_canvas();
    test_aaline();
    test_flip();
    test_smoothscale();
    return CHECK_DONE();
}
