/* raster: pygame 2.1.2's polygon, flip and smoothscale rules re-implemented on a 0x00RRGGBB canvas.
 * Written from reading pygame's C source at tag 2.1.2 (src_c/SDL_gfx/SDL_gfxPrimitives.c, draw.c,
 * gfxdraw.c, transform.c, scale_mmx64.c); the integer rules (rounding, span ends, Wu weights, the
 * fixed-point shrink) are theirs, the code is ours. Not a copy: no locking, no surface formats other
 * than pygame's default 32-bit one, clipping folded into the loops. */
#include "render/raster.h"

#include <math.h>
#include <string.h>

#include "util/simd.h" /* the fill-heavy primitives: AVX2 (32-byte stores) and plain x86-64 */

static inline uint32_t *row_at(raster_canvas c, int y) { return c.px + (ptrdiff_t)y * c.stride; }

static const raster_rows all_rows = {0, 1 << 30}; /* every row the canvas has */

static void fill_span(raster_canvas c, raster_rows rows, int y, int x1, int x2, uint32_t rgb)
{
    if (x1 > x2) {
        int t = x1;
        x1 = x2;
        x2 = t;
    }
    if (y < 0 || y >= c.h || y < rows.lo || y >= rows.hi || x2 < 0 || x1 >= c.w)
        return;
    if (x1 < 0)
        x1 = 0;
    if (x2 >= c.w)
        x2 = c.w - 1;
    uint32_t *p = row_at(c, y);
    for (int x = x1; x <= x2; x++) /* GCC turns this into vector stores */
        p[x] = rgb;
}

PPO_SIMD_CLONES void raster_clear_rows(raster_canvas c, raster_rows rows, uint32_t rgb)
{
    for (int y = rows.lo > 0 ? rows.lo : 0; y < c.h && y < rows.hi; y++)
        fill_span(c, rows, y, 0, c.w - 1, rgb);
}

void raster_clear(raster_canvas c, uint32_t rgb) { raster_clear_rows(c, all_rows, rgb); }

static void sort_ints(int *a, int n) /* insertion sort: n <= RASTER_MAX_POLY */
{
    for (int i = 1; i < n; i++) {
        int v = a[i], j = i - 1;
        for (; j >= 0 && a[j] > v; j--)
            a[j + 1] = a[j];
        a[j + 1] = v;
    }
}

int16_t raster_gfx_coord(double v)
{
    /* PyNumber_Long truncates; (Sint16)long keeps the low 16 bits (so pygame too wraps past +-32767).
     * Clamped first at +-1e9, where no scene goes, to keep the cast defined (NaN: -1e9). */
    if (!(v > -1e9))
        v = -1e9;
    if (v > 1e9)
        v = 1e9;
    long l = (long)v;
    return (int16_t)(uint16_t)(l & 0xffff);
}

int raster_pg_coord(double v)
{
    /* Saturated at +-2^24 (NaN to the low end) so that the fill's products stay in range; pygame's
     * own result is only defined well inside that. */
    const double lim = 16777216.0;
    if (!(v > -lim))
        return -(int)lim;
    if (v > lim)
        return (int)lim;
    return (int)v;
}

/* SDL_gfx's (x >> 16) on an int, for negative x too (arithmetic shift, as GCC does it). */
static inline int32_t asr16(int32_t x) { return (int32_t)((x - (x & 0xffff)) / 65536); }

void raster_gfx_filled_polygon(raster_canvas c, const int16_t *vx, const int16_t *vy, int n, uint32_t rgb)
{
    raster_gfx_filled_polygon_rows(c, all_rows, vx, vy, n, rgb);
}

PPO_SIMD_CLONES void raster_gfx_filled_polygon_rows(raster_canvas c, raster_rows rows, const int16_t *vx, const int16_t *vy, int n,
                                    uint32_t rgb)
{
    if (n < 3 || n > RASTER_MAX_POLY)
        return;
    int miny = vy[0], maxy = vy[0];
    for (int i = 1; i < n; i++) { /* SDL_gfx's "else if": the same extremes */
        if (vy[i] < miny)
            miny = vy[i];
        else if (vy[i] > maxy)
            maxy = vy[i];
    }
    /* Rows outside the canvas (or the rows asked for) draw nothing: the scan is limited to those. */
    const int lo = rows.lo > 0 ? rows.lo : 0, hi = rows.hi < c.h ? rows.hi : c.h;
    if (maxy < lo || miny >= hi)
        return;
    int y0 = miny < lo ? lo : miny, y1e = maxy >= hi ? hi - 1 : maxy;
    /* The edges top end first, horizontal ones dropped, sorted out once for all rows. */
    struct {
        int ya, yb, xa, dx;
        uint32_t dy;
    } e[RASTER_MAX_POLY];
    int ne = 0;
    for (int i = 0; i < n; i++) {
        int a = i ? i - 1 : n - 1, b = i;
        if (vy[a] == vy[b])
            continue;
        if (vy[a] > vy[b]) {
            a = i;
            b = i ? i - 1 : n - 1;
        }
        e[ne].ya = vy[a], e[ne].yb = vy[b], e[ne].xa = vx[a], e[ne].dx = vx[b] - vx[a];
        e[ne].dy = (uint32_t)(vy[b] - vy[a]);
        ne++;
    }
    int ints[RASTER_MAX_POLY];
    for (int y = y0; y <= y1e; y++) {
        int k = 0;
        for (int i = 0; i < ne; i++) {
            const int ya = e[i].ya, yb = e[i].yb;
            /* Half-open edges, except that the bottom row takes edges ending there. */
            if ((y >= ya && y < yb) || (y == maxy && y > ya && y <= yb)) {
                /* 65536 (y - ya) / (yb - ya): both below 2^16 (Sint16 ends), so 32-bit unsigned */
                const uint32_t q = ((uint32_t)(y - ya) << 16) / e[i].dy;
                int64_t v = (int64_t)q * e[i].dx + (int64_t)65536 * e[i].xa;
                ints[k++] = (int32_t)(uint32_t)(uint64_t)v; /* SDL_gfx's int: the same below 32768-px edges */
            }
        }
        sort_ints(ints, k);
        for (int i = 0; i + 1 < k; i += 2) {
            /* 16.16 -> int, rounding half up, one 1/65536 inside each end */
            int32_t xa = ints[i] + 1, xb = ints[i + 1] - 1;
            xa = asr16(xa) + ((xa & 32768) >> 15);
            xb = asr16(xb) + ((xb & 32768) >> 15);
            fill_span(c, rows, y, (int16_t)xa, (int16_t)xb, rgb); /* hlineColor takes Sint16, swaps x1 > x2 */
        }
    }
}

/* _putPixelAlpha, 32-bit case: dst + ((src - dst) * alpha >> 8) per channel (the unsigned mask
 * arithmetic reduces to a floor division by 256); alpha 255 stores the colour. */
static void put_alpha(raster_canvas c, raster_rows rows, int x, int y, uint32_t rgb, int alpha)
{
    if (x < 0 || x >= c.w || y < 0 || y >= c.h || y < rows.lo || y >= rows.hi)
        return;
    uint32_t *p = row_at(c, y) + x;
    if (alpha == 255) {
        *p = rgb;
        return;
    }
    /* dc + floor((sc - dc) alpha / 256) = (dc (256 - alpha) + sc alpha) >> 8, in [0, 255]: R and B
     * in two 16-bit lanes at once (each lane stays below 2^16), then G. */
    const uint32_t d = *p, na = 256u - (uint32_t)alpha, al = (uint32_t)alpha;
    const uint32_t rb = (((d & 0xff00ffu) * na + (rgb & 0xff00ffu) * al) >> 8) & 0xff00ffu;
    const uint32_t g = (((d & 0xff00u) * na + (rgb & 0xff00u) * al) >> 8) & 0xff00u;
    const uint32_t out = rb | g;
    *p = out;
}

/* pixelColorWeightNolock: an opaque colour's alpha 255 scaled by the weight, (255 * w) >> 8. */
static inline void put_weight(raster_canvas c, raster_rows rows, int x, int y, uint32_t rgb, uint32_t w)
{
    put_alpha(c, rows, x, y, rgb, (int)((255u * w) >> 8));
}

enum { CL_LEFT = 1, CL_RIGHT = 2, CL_BOTTOM = 4, CL_TOP = 8 };

static int clip_code(int x, int y, int right, int bottom)
{
    int code = 0;
    if (x < 0)
        code |= CL_LEFT;
    else if (x > right)
        code |= CL_RIGHT;
    if (y < 0)
        code |= CL_TOP;
    else if (y > bottom)
        code |= CL_BOTTOM;
    return code;
}

/* SDL_gfx _clipLine: Cohen-Sutherland with a float slope and Sint16 truncation; the clipped ends
 * change the line's Wu weights, so this is kept exact. Returns 0 when nothing is visible. */
static int clip_line(raster_canvas c, int16_t *x1, int16_t *y1, int16_t *x2, int16_t *y2)
{
    int right = c.w - 1, bottom = c.h - 1;
    for (;;) {
        int c1 = clip_code(*x1, *y1, right, bottom), c2 = clip_code(*x2, *y2, right, bottom);
        if (!(c1 | c2))
            return 1;
        if (c1 & c2)
            return 0;
        if (!c1) { /* make point 1 the outside one */
            int16_t t = *x2;
            *x2 = *x1;
            *x1 = t;
            t = *y2;
            *y2 = *y1;
            *y1 = t;
            int tc = c2;
            c2 = c1;
            c1 = tc;
        }
        float m = *x2 != *x1 ? (float)(*y2 - *y1) / (float)(*x2 - *x1) : 1.0f;
        if (c1 & CL_LEFT) {
            *y1 = (int16_t)(*y1 + (int16_t)((float)(0 - *x1) * m));
            *x1 = 0;
        } else if (c1 & CL_RIGHT) {
            *y1 = (int16_t)(*y1 + (int16_t)((float)(right - *x1) * m));
            *x1 = (int16_t)right;
        } else if (c1 & CL_BOTTOM) {
            if (*x2 != *x1)
                *x1 = (int16_t)(*x1 + (int16_t)((float)(bottom - *y1) / m));
            *y1 = (int16_t)bottom;
        } else if (c1 & CL_TOP) {
            if (*x2 != *x1)
                *x1 = (int16_t)(*x1 + (int16_t)((float)(0 - *y1) / m));
            *y1 = 0;
        }
    }
}

/* SDL_gfx _aalineColor(draw_endpoint = 0): Wu's line with 8-bit weights from a 32-bit error
 * accumulator; the first (unsorted) end drawn opaque, the last end not drawn. */
void raster_gfx_aaline(raster_canvas c, int16_t x1, int16_t y1, int16_t x2, int16_t y2, uint32_t rgb)
{
    raster_gfx_aaline_rows(c, all_rows, x1, y1, x2, y2, rgb);
}

/* The Wu walk's state after m steps from the start: the accumulator is m * erradj mod 2^32 and the
 * minor axis has stepped once per wrap (every step when erradj is 0: a 45-degree line). */
static inline uint32_t wu_wraps(uint32_t erradj, int m, uint32_t *erracc)
{
    const uint64_t acc = (uint64_t)erradj * (uint64_t)m;
    *erracc = (uint32_t)acc;
    return erradj ? (uint32_t)(acc >> 32) : (uint32_t)m;
}

PPO_SIMD_CLONES void raster_gfx_aaline_rows(raster_canvas c, raster_rows rows, int16_t x1, int16_t y1, int16_t x2, int16_t y2,
                            uint32_t rgb)
{
    if (!clip_line(c, &x1, &y1, &x2, &y2))
        return;
    int32_t xx0 = x1, yy0 = y1, xx1 = x2, yy1 = y2;
    if (yy0 > yy1) {
        int32_t t = yy0;
        yy0 = yy1;
        yy1 = t;
        t = xx0;
        xx0 = xx1;
        xx1 = t;
    }
    if (yy1 < rows.lo || yy0 >= rows.hi) /* every pixel is on a row in [yy0, yy1] */
        return;
    int dx = xx1 - xx0, dy = yy1 - yy0;
    if (dx == 0) { /* vertical: opaque, both ends (vlineColor) */
        if (dy > 0)
            for (int y = yy0 > rows.lo ? yy0 : rows.lo; y <= yy0 + dy && y < rows.hi; y++)
                put_alpha(c, rows, x1, y, rgb, 255);
        else
            put_alpha(c, rows, x1, y1, rgb, 255);
        return;
    }
    if (dy == 0) { /* horizontal: opaque, both ends (hlineColor) */
        fill_span(c, rows, y1, xx0, xx0 + dx, rgb);
        return;
    }
    int xdir = 1;
    if (dx < 0) {
        xdir = -1;
        dx = -dx;
    }
    uint32_t erracc = 0, erradj;
    put_alpha(c, rows, x1, y1, rgb, 255);
    /* Steps whose pixels all lie above rows.lo are skipped in one jump, and the walk stops below
     * rows.hi: rows only grow along it. */
    if (dy > dx) {
        erradj = (uint32_t)((dx << 16) / dy) << 16;
        int skip = rows.lo - 1 - yy0; /* step i draws on row yy0 + i */
        if (skip > dy - 1)
            skip = dy - 1;
        if (skip > 0) {
            xx0 += xdir * (int)wu_wraps(erradj, skip, &erracc);
            yy0 += skip;
            dy -= skip;
        }
        int x0pxdir = xx0 + xdir;
        while (--dy) {
            uint32_t prev = erracc;
            erracc += erradj;
            if (erracc <= prev) {
                xx0 = x0pxdir;
                x0pxdir += xdir;
            }
            yy0++;
            if (yy0 >= rows.hi)
                break;
            uint32_t wgt = (erracc >> 24) & 255;
            put_weight(c, rows, xx0, yy0, rgb, 255 - wgt);
            put_weight(c, rows, x0pxdir, yy0, rgb, wgt);
        }
    } else {
        erradj = (uint32_t)((dy << 16) / dx) << 16;
        const int t = rows.lo - 1 - yy0; /* a step draws on rows yy0 + wraps and the one below */
        if (t > 0) {
            /* the first step with t wraps is the ceil(t 2^32 / erradj)-th; skip the ones before it */
            int64_t first = erradj ? (int64_t)((((uint64_t)t << 32) + erradj - 1) / erradj) : t;
            int skip = first - 1 > dx - 1 ? dx - 1 : (int)(first - 1);
            if (skip > 0) {
                yy0 += (int)wu_wraps(erradj, skip, &erracc);
                xx0 += xdir * skip;
                dx -= skip;
            }
        }
        int y0p1 = yy0 + 1;
        while (--dx) {
            uint32_t prev = erracc;
            erracc += erradj;
            if (erracc <= prev) {
                yy0 = y0p1;
                y0p1++;
            }
            xx0 += xdir;
            if (yy0 >= rows.hi)
                break;
            uint32_t wgt = (erracc >> 24) & 255;
            put_weight(c, rows, xx0, yy0, rgb, 255 - wgt);
            put_weight(c, rows, xx0, y0p1, rgb, wgt);
        }
    }
}

void raster_gfx_aapolygon(raster_canvas c, const int16_t *vx, const int16_t *vy, int n, uint32_t rgb)
{
    raster_gfx_aapolygon_rows(c, all_rows, vx, vy, n, rgb);
}

void raster_gfx_aapolygon_rows(raster_canvas c, raster_rows rows, const int16_t *vx, const int16_t *vy, int n,
                               uint32_t rgb)
{
    if (n < 3)
        return;
    for (int i = 1; i < n; i++)
        raster_gfx_aaline_rows(c, rows, vx[i - 1], vy[i - 1], vx[i], vy[i], rgb);
    raster_gfx_aaline_rows(c, rows, vx[n - 1], vy[n - 1], vx[0], vy[0], rgb);
}

void raster_pg_polygon(raster_canvas c, const int *vx, const int *vy, int n, uint32_t rgb)
{
    raster_pg_polygon_rows(c, all_rows, vx, vy, n, rgb);
}

PPO_SIMD_CLONES void raster_pg_polygon_rows(raster_canvas c, raster_rows rows, const int *vx, const int *vy, int n, uint32_t rgb)
{
    if (n < 3 || n > RASTER_MAX_POLY)
        return;
    int miny = vy[0], maxy = vy[0];
    for (int i = 1; i < n; i++) {
        if (vy[i] < miny)
            miny = vy[i];
        if (vy[i] > maxy)
            maxy = vy[i];
    }
    if (miny == maxy) { /* one row: draw_line from min x to max x */
        int minx = vx[0], maxx = vx[0];
        for (int i = 1; i < n; i++) {
            if (vx[i] < minx)
                minx = vx[i];
            if (vx[i] > maxx)
                maxx = vx[i];
        }
        fill_span(c, rows, miny, minx, maxx, rgb);
        return;
    }
    const int lo = rows.lo > 0 ? rows.lo : 0, hi = rows.hi < c.h ? rows.hi : c.h;
    if (maxy < lo || miny >= hi)
        return;
    int y0 = miny < lo ? lo : miny, y1e = maxy >= hi ? hi - 1 : maxy;
    int xs[RASTER_MAX_POLY];
    for (int y = y0; y <= y1e; y++) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            int a = i ? i - 1 : n - 1, b = i;
            int ya = vy[a], yb = vy[b], xa, xb;
            if (ya < yb) {
                xa = vx[a];
                xb = vx[b];
            } else if (ya > yb) {
                int t = ya;
                ya = yb;
                yb = t;
                xa = vx[b];
                xb = vx[a];
            } else {
                continue;
            }
            /* half-open edges, plus every edge ending on the last row (draw.c's rule) */
            if ((y >= ya && y < yb) || (y == maxy && yb == maxy))
                /* C division truncates; int64 where draw.c's int product would wrap (spans > 46340 px) */
                xs[k++] = (int)((int64_t)(y - ya) * (xb - xa) / (yb - ya) + xa);
        }
        sort_ints(xs, k);
        for (int i = 0; i + 1 < k; i += 2)
            fill_span(c, rows, y, xs[i], xs[i + 1], rgb);
    }
    /* draw.c's last pass: horizontal edges strictly between the top and bottom rows */
    for (int i = 0; i < n; i++) {
        int p = i ? i - 1 : n - 1;
        if (miny < vy[i] && vy[p] == vy[i] && vy[i] < maxy)
            fill_span(c, rows, vy[i], vx[i], vx[p], rgb);
    }
}

raster_canvas raster_canvas_flipped(raster_canvas c)
{
    raster_canvas f = c;
    f.px = c.px + (ptrdiff_t)(c.h - 1) * c.stride;
    f.stride = -c.stride;
    return f;
}

void raster_flip_vertical(raster_canvas c)
{
    for (int y = 0; y < c.h / 2; y++) {
        uint32_t *a = row_at(c, y), *b = row_at(c, c.h - 1 - y);
        for (int x = 0; x < c.w; x++) {
            uint32_t t = a[x];
            a[x] = b[x];
            b[x] = t;
        }
    }
}

/* Adds the channels of n whole pixels into 16-bit sums that wrap as pygame's do (uint16 in
 * transform.c, paddw in scale_mmx64.c): a sum mod 2^16 is the same however it is split. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Two pixels per step in eight 16-bit lanes (B, G, R, 0 of each: 0x00RRGGBB little-endian). */
typedef uint8_t raster_v8u8 __attribute__((vector_size(8)));
typedef uint16_t raster_v8u16 __attribute__((vector_size(16)));
static inline void sum_whole(const uint32_t *w, int n, uint16_t *ar, uint16_t *ag, uint16_t *ab)
{
    raster_v8u16 acc = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 1 < n; i += 2) {
        raster_v8u8 two;
        memcpy(&two, w + i, sizeof two);
        acc += __builtin_convertvector(two, raster_v8u16);
    }
    uint16_t b = (uint16_t)(acc[0] + acc[4]), g = (uint16_t)(acc[1] + acc[5]), r = (uint16_t)(acc[2] + acc[6]);
    if (i < n) {
        b = (uint16_t)(b + (w[i] & 255));
        g = (uint16_t)(g + ((w[i] >> 8) & 255));
        r = (uint16_t)(r + ((w[i] >> 16) & 255));
    }
    *ar = (uint16_t)(*ar + r);
    *ag = (uint16_t)(*ag + g);
    *ab = (uint16_t)(*ab + b);
}
#else
/* Portable: 16-bit lanes of 64-bit words, R and B of two pixels in one, G of two in another; 254
 * pixels at most per word keep the lanes apart. */
static inline void sum_whole(const uint32_t *q, int n, uint16_t *ar, uint16_t *ag, uint16_t *ab)
{
    for (int k = 0; k < n; k += 254) {
        const int m = n - k < 254 ? n - k : 254;
        const uint32_t *w = q + k;
        uint64_t rb = 0, g = 0;
        int i = 0;
        for (; i + 1 < m; i += 2) {
            uint64_t two;
            memcpy(&two, w + i, sizeof two); /* pixels i, i + 1 (either byte order: summed alike) */
            rb += two & 0x00ff00ff00ff00ffull;
            g += (two >> 8) & 0x000000ff000000ffull;
        }
        if (i < m) {
            rb += w[i] & 0xff00ffu;
            g += (w[i] >> 8) & 0xffu;
        }
        rb += rb >> 32;
        g += g >> 32;
        *ar = (uint16_t)(*ar + ((rb >> 16) & 0xffffu));
        *ab = (uint16_t)(*ab + (rb & 0xffffu));
        *ag = (uint16_t)(*ag + (g & 0xffffu));
    }
}
#endif

typedef raster_shrink_plan shrink_plan;

static void shrink_plan_make(shrink_plan *p, int src_w, int dst_w, int one, int xspace)
{
    p->nout = 0;
    for (int x = 0, counter = xspace, run = 0; x < src_w && p->nout < dst_w; x++) {
        if (counter > one) {
            counter -= one;
            continue;
        }
        const int j = p->nout++;
        p->first[j] = run;
        p->whole[j] = x - run;
        p->split[j] = x;
        p->cnt[j] = (uint32_t)counter;
        p->frac[j] = (uint32_t)(one - counter);
        counter = xspace - (one - counter);
        run = x + 1;
    }
    p->nfast = 0;
    while (p->nfast < p->nout && p->first[p->nfast] + ((p->whole[p->nfast] + 3) & ~3) <= src_w)
        p->nfast++;
}

/* The generic X pass of one row into d (dst_w RGB bytes). */
static void shrink_x_row(const uint32_t *s, const shrink_plan *p, int frac_bits, uint32_t xrecip, uint8_t *d)
{
    uint16_t cr = 0, cg = 0, cb = 0; /* the split pixel's remainder carried into the next output */
    for (int j = 0; j < p->nout; j++) {
        uint16_t ar = cr, ag = cg, ab = cb;
        sum_whole(s + p->first[j], p->whole[j], &ar, &ag, &ab);
        const uint32_t px = s[p->split[j]], cnt = p->cnt[j], frac = p->frac[j];
        const uint32_t r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
        d[3 * j + 0] = (uint8_t)(((uint32_t)(uint16_t)(ar + ((r * cnt) >> frac_bits)) * xrecip) >> 16);
        d[3 * j + 1] = (uint8_t)(((uint32_t)(uint16_t)(ag + ((g * cnt) >> frac_bits)) * xrecip) >> 16);
        d[3 * j + 2] = (uint8_t)(((uint32_t)(uint16_t)(ab + ((b * cnt) >> frac_bits)) * xrecip) >> 16);
        cr = (uint16_t)((r * frac) >> frac_bits);
        cg = (uint16_t)((g * frac) >> frac_bits);
        cb = (uint16_t)((b * frac) >> frac_bits);
    }
}

/* The Y pass's two steps on one X-pass row s (n bytes): a row taken whole adds into line; the row
 * that splits ends an output row (written to d unless d is NULL) and starts line with its rest. */
static void shrink_y_add(const uint8_t *s, uint16_t *line, int n)
{
    for (int i = 0; i < n; i++)
        line[i] = (uint16_t)(line[i] + s[i]);
}

static void shrink_y_split(const uint8_t *s, uint16_t *line, int n, int frac_bits, uint32_t cnt, uint32_t frac,
                           uint32_t yrecip, uint8_t *d)
{
    for (int i = 0; i < n; i++) {
        if (d)
            d[i] = (uint8_t)(((uint32_t)(uint16_t)(line[i] + ((s[i] * cnt) >> frac_bits)) * yrecip) >> 16);
        line[i] = (uint16_t)((s[i] * frac) >> frac_bits);
    }
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* The 14-bit filters in SSE2 (every x86-64 has it), with the same integer results: channels in 16-bit
 * lanes (paddw wraps as pygame's sums do), and (v * c) >> 14 as pmulhuw of 4 v and c, exact since
 * c <= 2^14; (sum * recip) >> 16 is pmulhuw itself (recip < 2^16 for a shrink). */

/* Pixels [first, first + whole) of rows a and b, B G R A sums in lanes 0-3 (a) and 4-7 (b). Reads
 * whole rounded up to 4 pixels (the extra ones masked off): callers keep that inside the rows. */
static inline __m128i sum_whole2(const uint32_t *a, const uint32_t *b, int whole)
{
    static const uint32_t tail_mask[4][4] = {
        {0, 0, 0, 0}, {~0u, 0, 0, 0}, {~0u, ~0u, 0, 0}, {~0u, ~0u, ~0u, 0}};
    const __m128i z = _mm_setzero_si128();
    __m128i sa = z, sb = z;
    int k = 0;
    for (; k + 4 <= whole; k += 4) {
        const __m128i va = _mm_loadu_si128((const __m128i *)(a + k)), vb = _mm_loadu_si128((const __m128i *)(b + k));
        sa = _mm_add_epi16(sa, _mm_add_epi16(_mm_unpacklo_epi8(va, z), _mm_unpackhi_epi8(va, z)));
        sb = _mm_add_epi16(sb, _mm_add_epi16(_mm_unpacklo_epi8(vb, z), _mm_unpackhi_epi8(vb, z)));
    }
    if (k < whole) {
        const __m128i m = _mm_loadu_si128((const __m128i *)tail_mask[whole - k]);
        const __m128i va = _mm_and_si128(m, _mm_loadu_si128((const __m128i *)(a + k)));
        const __m128i vb = _mm_and_si128(m, _mm_loadu_si128((const __m128i *)(b + k)));
        sa = _mm_add_epi16(sa, _mm_add_epi16(_mm_unpacklo_epi8(va, z), _mm_unpackhi_epi8(va, z)));
        sb = _mm_add_epi16(sb, _mm_add_epi16(_mm_unpacklo_epi8(vb, z), _mm_unpackhi_epi8(vb, z)));
    }
    return _mm_add_epi16(_mm_unpacklo_epi64(sa, sb), _mm_unpackhi_epi64(sa, sb));
}

/* Four rows go through the X pass together; xo holds, per output j, 16 lanes: B G R A of rows
 * 0, 2, 1, 3 of the four (the order AVX2's 128-bit halves give), at XO_LANE(r). */
#define XO_LANE(r) (((r) & 1) * 8 + ((r) >> 1) * 4)

/* The last outputs, from j on, whose rounded-up reads would pass the row's end: scalar, from the
 * carry c (B G R of this row), into o (output k at o + 16 k). */
static void shrink_x_tail(const uint32_t *s, const shrink_plan *p, uint32_t xrecip, int j, const uint16_t *c,
                          uint16_t *o)
{
    uint16_t cb = c[0], cg = c[1], cr = c[2];
    for (int k = j; k < p->nout; k++) {
        uint16_t ar = cr, ag = cg, ab = cb;
        sum_whole(s + p->first[k], p->whole[k], &ar, &ag, &ab);
        const uint32_t px = s[p->split[k]], cnt = p->cnt[k], frac = p->frac[k];
        const uint32_t pr = (px >> 16) & 255, pg = (px >> 8) & 255, pb = px & 255;
        uint16_t *q = o + 16 * k;
        q[0] = (uint16_t)(((uint32_t)(uint16_t)(ab + ((pb * cnt) >> 14)) * xrecip) >> 16);
        q[1] = (uint16_t)(((uint32_t)(uint16_t)(ag + ((pg * cnt) >> 14)) * xrecip) >> 16);
        q[2] = (uint16_t)(((uint32_t)(uint16_t)(ar + ((pr * cnt) >> 14)) * xrecip) >> 16);
        q[3] = 0;
        cr = (uint16_t)((pr * frac) >> 14);
        cg = (uint16_t)((pg * frac) >> 14);
        cb = (uint16_t)((pb * frac) >> 14);
    }
}

/* The X pass of rows a and b together (one walk, both rows in one register): output j's lanes of
 * row a at o + 16 j, of row b at o + 16 j + 4. */
static void shrink_x_rows2_sse2(const uint32_t *a, const uint32_t *b, const shrink_plan *p, uint32_t xrecip,
                                uint16_t *o)
{
    const __m128i z = _mm_setzero_si128(), recip = _mm_set1_epi16((short)(uint16_t)xrecip);
    __m128i carry = z;
    int j = 0;
    for (; j < p->nfast; j++) {
        __m128i acc = _mm_add_epi16(carry, sum_whole2(a + p->first[j], b + p->first[j], p->whole[j]));
        const int x = p->split[j];
        const __m128i px = _mm_slli_epi16(
            _mm_unpacklo_epi8(_mm_unpacklo_epi32(_mm_cvtsi32_si128((int)a[x]), _mm_cvtsi32_si128((int)b[x])), z), 2);
        acc = _mm_add_epi16(acc, _mm_mulhi_epu16(px, _mm_set1_epi16((short)p->cnt[j])));
        carry = _mm_mulhi_epu16(px, _mm_set1_epi16((short)p->frac[j]));
        _mm_storeu_si128((__m128i *)(o + 16 * j), _mm_mulhi_epu16(acc, recip));
    }
    uint16_t c[8];
    _mm_storeu_si128((__m128i *)c, carry);
    shrink_x_tail(a, p, xrecip, j, c, o);
    shrink_x_tail(b, p, xrecip, j, c + 4, o + 4);
}

static void shrink_x_rows4_sse2(const uint32_t *const rows[4], const shrink_plan *p, uint32_t xrecip, uint16_t *xo)
{
    shrink_x_rows2_sse2(rows[0], rows[2], p, xrecip, xo + XO_LANE(0));
    shrink_x_rows2_sse2(rows[1], rows[3], p, xrecip, xo + XO_LANE(1));
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define RASTER_HAVE_AVX2_X 1
/* shrink_x_rows4_sse2 for CPUs with AVX2 (chosen at run time): four pixels widen to 16-bit lanes in
 * one load (vpmovzxbw), four rows share one walk. Same lanes, same results. */
__attribute__((target("avx2"))) static inline __m256i widen4_avx2(const uint32_t *q)
{
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)q));
}

/* The Y walk's decisions for the next rows (up to 4), taken once: a row adds whole into line, or
 * splits, ending output row d (NULL past dst_h) and starting line with its rest. */
typedef struct {
    int split[4];
    __m128i vc[4], vf[4];
    uint8_t *d[4];
} shrink_ydec;

static void shrink_y_decide(raster_shrink *sh, int rows, uint8_t *out, shrink_ydec *yd)
{
    const int one = 1 << 14;
    for (int r = 0; r < rows; r++) {
        yd->split[r] = sh->counter <= one;
        yd->d[r] = NULL;
        if (!yd->split[r]) {
            sh->counter -= one;
            continue;
        }
        yd->vc[r] = _mm_set1_epi16((short)sh->counter);
        yd->vf[r] = _mm_set1_epi16((short)(one - sh->counter));
        if (sh->rows_out < sh->dst_h)
            yd->d[r] = out + (size_t)sh->rows_out++ * sh->dst_w * 3;
        sh->counter = sh->yspace - (one - sh->counter);
    }
}

/* One output's Y step for row r: v holds its X result (B G R A lanes), l its Y sum; output j. */
static inline __m128i shrink_y_step(const shrink_ydec *yd, int r, int j, __m128i l, __m128i v, __m128i vr)
{
    if (!yd->split[r])
        return _mm_add_epi16(l, v);
    const __m128i v4 = _mm_slli_epi16(v, 2);
    if (yd->d[r]) {
        const __m128i o = _mm_mulhi_epu16(_mm_add_epi16(l, _mm_mulhi_epu16(v4, yd->vc[r])), vr);
        const uint32_t ob = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(o, o));
        uint8_t *q = yd->d[r] + 3 * j;
        q[0] = (uint8_t)(ob >> 16), q[1] = (uint8_t)(ob >> 8), q[2] = (uint8_t)ob;
    }
    return _mm_mulhi_epu16(v4, yd->vf[r]);
}

/* Four rows' X pass with their Y steps fused in (AVX2): each output's four X results go straight
 * into the Y sums, without a trip through memory. */
__attribute__((target("avx2"))) static void shrink_xy_rows4_avx2(raster_shrink *sh, const uint32_t *const rows[4],
                                                                 int nrows, uint8_t *out)
{
    static const int16_t tail_mask[4][16] = {
        {0}, {-1, -1, -1, -1}, {-1, -1, -1, -1, -1, -1, -1, -1}, {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}};
    const shrink_plan *p = &sh->plan;
    shrink_ydec yd;
    shrink_y_decide(sh, nrows, out, &yd);
    const int all_whole = nrows == 4 && !(yd.split[0] | yd.split[1] | yd.split[2] | yd.split[3]);
    const __m128i vr = _mm_set1_epi16((short)(uint16_t)sh->yrecip);
    const uint32_t *a = rows[0], *b = rows[1], *c = rows[2], *d = rows[3];
    const __m256i recip = _mm256_set1_epi16((short)(uint16_t)sh->xrecip);
    __m256i carry = _mm256_setzero_si256();
    int j = 0;
    for (; j < p->nfast; j++) {
        const int f = p->first[j], whole = p->whole[j];
        const __m256i m = _mm256_loadu_si256((const __m256i *)tail_mask[whole & 3]);
        __m256i sa = _mm256_setzero_si256(), sb = sa, sc = sa, sd = sa;
        int k = f;
        for (; k + 4 <= f + whole; k += 4) {
            sa = _mm256_add_epi16(sa, widen4_avx2(a + k));
            sb = _mm256_add_epi16(sb, widen4_avx2(b + k));
            sc = _mm256_add_epi16(sc, widen4_avx2(c + k));
            sd = _mm256_add_epi16(sd, widen4_avx2(d + k));
        }
        if (k < f + whole) {
            sa = _mm256_add_epi16(sa, _mm256_and_si256(m, widen4_avx2(a + k)));
            sb = _mm256_add_epi16(sb, _mm256_and_si256(m, widen4_avx2(b + k)));
            sc = _mm256_add_epi16(sc, _mm256_and_si256(m, widen4_avx2(c + k)));
            sd = _mm256_add_epi16(sd, _mm256_and_si256(m, widen4_avx2(d + k)));
        }
        /* (a's pixel slots 0+2, 1+3 | b's), (c's | d's), then slot 0 + slot 1: lanes a, c | b, d */
        const __m256i tab = _mm256_add_epi16(_mm256_permute2x128_si256(sa, sb, 0x20), _mm256_permute2x128_si256(sa, sb, 0x31));
        const __m256i tcd = _mm256_add_epi16(_mm256_permute2x128_si256(sc, sd, 0x20), _mm256_permute2x128_si256(sc, sd, 0x31));
        __m256i acc = _mm256_add_epi16(_mm256_unpacklo_epi64(tab, tcd), _mm256_unpackhi_epi64(tab, tcd));
        const int x = p->split[j];
        const __m256i px = _mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm_set_epi32((int)d[x], (int)b[x], (int)c[x], (int)a[x])), 2);
        acc = _mm256_add_epi16(_mm256_add_epi16(acc, carry), _mm256_mulhi_epu16(px, _mm256_set1_epi16((short)p->cnt[j])));
        carry = _mm256_mulhi_epu16(px, _mm256_set1_epi16((short)p->frac[j]));
        const __m256i o = _mm256_mulhi_epu16(acc, recip);
        const __m128i ac = _mm256_castsi256_si128(o), bd = _mm256_extracti128_si256(o, 1);
        __m128i l = _mm_loadl_epi64((const __m128i *)(sh->line + 4 * j));
        if (all_whole) { /* four rows added whole: the common case */
            const __m128i s2 = _mm_add_epi16(ac, bd);
            l = _mm_add_epi16(l, _mm_add_epi16(s2, _mm_unpackhi_epi64(s2, s2)));
        } else {
            const __m128i v[4] = {ac, bd, _mm_unpackhi_epi64(ac, ac), _mm_unpackhi_epi64(bd, bd)};
            for (int r = 0; r < nrows; r++)
                l = shrink_y_step(&yd, r, j, l, v[r], vr);
        }
        _mm_storel_epi64((__m128i *)(sh->line + 4 * j), l);
    }
    if (j == p->nout)
        return;
    uint16_t cl[16];
    _mm256_storeu_si256((__m256i *)cl, carry);
    for (int r = 0; r < 4; r++)
        shrink_x_tail(rows[r], p, sh->xrecip, j, cl + XO_LANE(r), sh->xo + XO_LANE(r));
    for (; j < p->nout; j++) {
        __m128i l = _mm_loadl_epi64((const __m128i *)(sh->line + 4 * j));
        for (int r = 0; r < nrows; r++)
            l = shrink_y_step(&yd, r, j, l, _mm_loadl_epi64((const __m128i *)(sh->xo + 16 * j + XO_LANE(r))), vr);
        _mm_storel_epi64((__m128i *)(sh->line + 4 * j), l);
    }
}
#endif

/* The 14-bit Y walk over rows [y, y + rows) of src, whose X pass (four rows at once) is in xo:
 * the X outputs stay in 16-bit lanes (B G R A), two outputs per register. */
static void shrink14_rows_sse2(raster_shrink *sh, raster_canvas src, int y, int rows, uint8_t *out)
{
    const int one = 1 << 14, npair = (sh->dst_w + 1) / 2, dst_w = sh->dst_w;
    uint16_t *xo = sh->xo, *line = sh->line;
    const __m128i vr = _mm_set1_epi16((short)(uint16_t)sh->yrecip);
    const uint32_t *src_rows[4];
    for (int r = 0; r < 4; r++) /* past the last row: the last again, its outputs unused */
        src_rows[r] = row_at(src, r < rows ? y + r : y + rows - 1);
#ifdef RASTER_HAVE_AVX2_X
    if (__builtin_cpu_supports("avx2")) {
        shrink_xy_rows4_avx2(sh, src_rows, rows, out);
        return;
    }
#endif
    shrink_x_rows4_sse2(src_rows, &sh->plan, sh->xrecip, xo);
    for (int r = 0; r < rows; r++) {
        const uint16_t *xr = xo + XO_LANE(r);
        if (sh->counter > one) {
            for (int k = 0; k < npair; k++) {
                const __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(xr + 32 * k)),
                                                     _mm_loadl_epi64((const __m128i *)(xr + 32 * k + 16)));
                __m128i *l = (__m128i *)(line + 8 * k);
                _mm_storeu_si128(l, _mm_add_epi16(_mm_loadu_si128(l), v));
            }
            sh->counter -= one;
            continue;
        }
        const __m128i vc = _mm_set1_epi16((short)sh->counter), vf = _mm_set1_epi16((short)(one - sh->counter));
        uint8_t *d = sh->rows_out < sh->dst_h ? out + (size_t)sh->rows_out * dst_w * 3 : NULL;
        for (int k = 0; k < npair; k++) {
            const __m128i v = _mm_slli_epi16(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(xr + 32 * k)),
                                                                _mm_loadl_epi64((const __m128i *)(xr + 32 * k + 16))),
                                             2);
            __m128i *l = (__m128i *)(line + 8 * k);
            if (d) {
                const __m128i o = _mm_mulhi_epu16(_mm_add_epi16(_mm_loadu_si128(l), _mm_mulhi_epu16(v, vc)), vr);
                const __m128i o8 = _mm_packus_epi16(o, o);
                const uint32_t ob[2] = {(uint32_t)_mm_cvtsi128_si32(o8),
                                        (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(o8, 4))};
                for (int h = 0; h < 2 && 2 * k + h < dst_w; h++) {
                    uint8_t *q = d + 3 * (2 * k + h);
                    q[0] = (uint8_t)(ob[h] >> 16), q[1] = (uint8_t)(ob[h] >> 8), q[2] = (uint8_t)ob[h];
                }
            }
            _mm_storeu_si128(l, _mm_mulhi_epu16(v, vf));
        }
        sh->rows_out += d != NULL;
        sh->counter = sh->yspace - (one - sh->counter);
    }
}
#endif

/* smoothscale's area average (transform.c filter_shrink_X/Y_ONLYC; scale_mmx64.c *_SSE with
 * one = 2^14): a source pixel adds whole while the counter exceeds one, else it is split at the
 * counter; an output is (sum * recip) >> 16 with recip = 2^16 * one / space, space = one * src / dst
 * (both truncated, so a uniform 255 comes out a little darker). Accumulators are 16-bit as there.
 * Each source row goes through the X pass into tmp's first rows and on into the Y pass at once, so
 * the X pass's output never leaves the cache. */
void raster_shrink_begin(raster_shrink *sh, int src_w, int src_h, int dst_w, int dst_h, int frac_bits)
{
    const int one = 1 << frac_bits;
    const int xspace = (int)((int64_t)one * src_w / dst_w);
    sh->src_w = src_w, sh->src_h = src_h, sh->dst_w = dst_w, sh->dst_h = dst_h, sh->frac_bits = frac_bits;
    sh->xrecip = (uint32_t)(((int64_t)1 << (16 + frac_bits)) / xspace);
    sh->yspace = (int)((int64_t)one * src_h / dst_h);
    sh->yrecip = (uint32_t)(((int64_t)1 << (16 + frac_bits)) / sh->yspace);
    sh->counter = sh->yspace;
    sh->rows_out = 0;
    sh->next_y = 0;
    shrink_plan_make(&sh->plan, src_w, dst_w, one, xspace);
    /* lanes past dst_w (rounded up to even) stay 0: outputs past nout (none for a real shrink) */
    memset(sh->line, 0, sizeof sh->line);
    memset(sh->xo, 0, sizeof sh->xo);
}

PPO_SIMD_CLONES void raster_shrink_rows(raster_shrink *sh, raster_canvas src, int y_end, uint8_t *out)
{
    const int one = 1 << sh->frac_bits;
    int y = sh->next_y;
#if defined(__SSE2__)
    if (sh->frac_bits == 14) {
        for (; y < y_end; y += 4)
            shrink14_rows_sse2(sh, src, y, y_end - y < 4 ? y_end - y : 4, out);
        sh->next_y = y_end;
        return;
    }
#endif
    const int n = sh->dst_w * 3;
    uint8_t *xa = (uint8_t *)sh->xo; /* one X-pass row, which the Y pass takes at once */
    for (; y < y_end; y++) {
        shrink_x_row(row_at(src, y), &sh->plan, sh->frac_bits, sh->xrecip, xa);
        if (sh->counter > one) {
            shrink_y_add(xa, sh->line, n);
            sh->counter -= one;
            continue;
        }
        const uint32_t cnt = (uint32_t)sh->counter, frac = (uint32_t)(one - sh->counter);
        uint8_t *d = sh->rows_out < sh->dst_h ? out + (size_t)sh->rows_out * n : NULL;
        shrink_y_split(xa, sh->line, n, sh->frac_bits, cnt, frac, sh->yrecip, d);
        sh->rows_out += d != NULL;
        sh->counter = sh->yspace - (int)frac;
    }
    sh->next_y = y_end;
}

void raster_smoothscale_shrink(raster_canvas src, int dst_w, int dst_h, int frac_bits, uint8_t *tmp,
                               uint16_t *line, uint8_t *out)
{
    (void)tmp, (void)line;
    raster_shrink sh; /* ~60 KB of stack */
    raster_shrink_begin(&sh, src.w, src.h, dst_w, dst_h, frac_bits);
    raster_shrink_rows(&sh, src, src.h, out);
}
