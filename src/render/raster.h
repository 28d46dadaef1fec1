/* raster: a small software rasterizer that reproduces, pixel for pixel, the pygame 2.1.2 primitives
 * Gymnasium's Box2D envs draw with: SDL_gfx's filled and antialiased polygons (pygame.gfxdraw), pygame's
 * own polygon fill (pygame.draw.polygon), a vertical flip and smoothscale's area-average shrink.
 * Not a general graphics library: no blending modes beyond what those functions do, no allocation
 * (callers own every buffer). Internal header. */
#ifndef PPO_RENDER_RASTER_H
#define PPO_RENDER_RASTER_H

#include <stddef.h>
#include <stdint.h>

/* Pixels as 0x00RRGGBB, the layout of pygame's default 32-bit surface (masks 0xff0000, 0xff00, 0xff).
 * stride is in pixels and may be negative (a view of the rows in reverse: see raster_canvas_flipped). */
typedef struct {
    uint32_t *px; /* row 0 */
    int w, h;
    ptrdiff_t stride;
} raster_canvas;

#define RASTER_MAX_POLY 16 /* the most vertices a polygon may have (the scanline lists live on the stack) */
#define RASTER_MAX_SHRINK_W 1024 /* the widest smoothscale output (its per-column table is on the stack) */

static inline uint32_t raster_rgb(int r, int g, int b)
{
    return ((uint32_t)(r & 255) << 16) | ((uint32_t)(g & 255) << 8) | (uint32_t)(b & 255);
}

/* Rows [lo, hi) of a canvas: the *_rows forms draw exactly what the whole-canvas forms draw (same
 * clipping, same pixels) but store only the pixels on those rows, so that a caller can draw a frame
 * band by band with each band in cache. */
typedef struct {
    int lo, hi;
} raster_rows;

/* Fills the canvas with one colour. */
void raster_clear(raster_canvas c, uint32_t rgb);
void raster_clear_rows(raster_canvas c, raster_rows rows, uint32_t rgb);

/* SDL_gfx filledPolygonColor (pygame.gfxdraw.filled_polygon) with an opaque colour; vertices as the
 * Sint16 that gfxdraw makes of Python numbers (see raster_gfx_coord). n in [3, RASTER_MAX_POLY]. */
void raster_gfx_filled_polygon(raster_canvas c, const int16_t *vx, const int16_t *vy, int n, uint32_t rgb);
void raster_gfx_filled_polygon_rows(raster_canvas c, raster_rows rows, const int16_t *vx, const int16_t *vy, int n,
                                    uint32_t rgb);

/* SDL_gfx aapolygonColor (pygame.gfxdraw.aapolygon) with an opaque colour: each edge a Wu line without
 * its last point, blended into what is there. n >= 3. */
void raster_gfx_aapolygon(raster_canvas c, const int16_t *vx, const int16_t *vy, int n, uint32_t rgb);
void raster_gfx_aapolygon_rows(raster_canvas c, raster_rows rows, const int16_t *vx, const int16_t *vy, int n,
                               uint32_t rgb);

/* One aapolygon edge: SDL_gfx _aalineColor(draw_endpoint = 0), clipped as SDL_gfx clips it. */
void raster_gfx_aaline(raster_canvas c, int16_t x1, int16_t y1, int16_t x2, int16_t y2, uint32_t rgb);
void raster_gfx_aaline_rows(raster_canvas c, raster_rows rows, int16_t x1, int16_t y1, int16_t x2, int16_t y2,
                            uint32_t rgb);

/* pygame.draw.polygon(width=0) (draw.c draw_fillpoly); vertices as the ints pygame makes of Python
 * numbers (truncation toward zero). n in [3, RASTER_MAX_POLY]. */
void raster_pg_polygon(raster_canvas c, const int *vx, const int *vy, int n, uint32_t rgb);
void raster_pg_polygon_rows(raster_canvas c, raster_rows rows, const int *vx, const int *vy, int n, uint32_t rgb);

/* gfxdraw's conversion of a Python float: int() (truncation toward zero), then a cast to Sint16. */
int16_t raster_gfx_coord(double v);
/* draw.c's pg_IntFromObj for a float: a C cast to int, saturated at +-2^24 (NaN: -2^24). */
int raster_pg_coord(double v);

/* A view of c upside down (row 0 is c's last row): drawing into it is drawing into c after
 * pygame.transform.flip(c, False, True), without copying. */
raster_canvas raster_canvas_flipped(raster_canvas c);
/* pygame.transform.flip(c, False, True) in place. */
void raster_flip_vertical(raster_canvas c);

/* pygame.transform.smoothscale for a shrink in both axes (src.w > dst_w, src.h > dst_h,
 * dst_w <= RASTER_MAX_SHRINK_W): X pass, then Y pass, row by row; out gets dst_h rows of dst_w RGB
 * bytes. frac_bits selects pygame's variant: 14 for the SSE/MMX filters x86-64 builds use
 * (scale_mmx64.c), 16 for the portable C ones (transform.c *_ONLYC). tmp (src.h * dst_w * 3 bytes)
 * and line (dst_w * 3 uint16) are no longer used: the scratch is a raster_shrink on the stack. */
void raster_smoothscale_shrink(raster_canvas src, int dst_w, int dst_h, int frac_bits, uint8_t *tmp,
                               uint16_t *line, uint8_t *out);

/* The same shrink a band of rows at a time, so that a caller can draw rows and shrink them while
 * they are in cache: raster_shrink_begin, then raster_shrink_rows for rows up to y_end (exclusive),
 * y_end increasing to src.h, every band but the last a multiple of 4 rows. All scratch is inside
 * (no allocation); one per thread. */
typedef struct { /* the X walk, the same on every row: per output, the pixels taken whole and the split one */
    int first[RASTER_MAX_SHRINK_W], whole[RASTER_MAX_SHRINK_W], split[RASTER_MAX_SHRINK_W];
    uint32_t cnt[RASTER_MAX_SHRINK_W], frac[RASTER_MAX_SHRINK_W];
    int nout;
    int nfast; /* the leading outputs whose whole pixels, rounded up to 4, stay inside the row */
} raster_shrink_plan;

typedef struct {
    int src_w, src_h, dst_w, dst_h, frac_bits;
    uint32_t xrecip, yrecip;
    int yspace, counter, rows_out, next_y; /* the Y walk's state between bands */
    raster_shrink_plan plan;
    uint16_t line[(RASTER_MAX_SHRINK_W + 1) * 4]; /* (dst_w rounded up to even, B G R A): Y sums */
    uint16_t xo[(RASTER_MAX_SHRINK_W + 1) * 16];  /* (dst_w rounded up to even, 4 rows, B G R A): X pass */
} raster_shrink;

void raster_shrink_begin(raster_shrink *sh, int src_w, int src_h, int dst_w, int dst_h, int frac_bits);
void raster_shrink_rows(raster_shrink *sh, raster_canvas src, int y_end, uint8_t *out);

#endif
