/* car_racing_render: CarRacing-v3's 96 x 96 observation, composed as Gymnasium's
 * CarRacing._render("state_pixels") does it with pygame (gymnasium/envs/box2d/car_racing.py _render,
 * _render_road, _render_indicators, _draw_colored_polygon, _create_image_array; car_dynamics.py
 * Car.draw with draw_particles False), on render/raster's reproductions of pygame 2.1.2's primitives.
 * The primitives are gathered first, then the canvas is drawn and shrunk in bands of rows (each band
 * sees pygame's operations in pygame's order), so the result is the whole-canvas one.
 * Not done here: the score digits (pygame.font, freesansbold.ttf 42 px) are not drawn. */
#include "envs/car_racing_render.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "render/raster.h"

/* car_dynamics.py HULL_POLY1..4 and WHEELPOS. */
const int cr_hull_poly_len[4] = {4, 4, 8, 4};
const float cr_hull_poly[4][8][2] = {
    {{-60, +130}, {+60, +130}, {+60, +110}, {-60, +110}},
    {{-15, +120}, {+15, +120}, {+20, +20}, {-20, 20}},
    {{+25, +20}, {+50, -10}, {+50, -40}, {+20, -90}, {-20, -90}, {-50, -40}, {-50, -10}, {-25, +20}},
    {{-50, -120}, {+50, -120}, {+50, -90}, {-50, -90}},
};
const float cr_wheel_pos[4][2] = {{-55, +80}, {+55, +80}, {-55, -82}, {+55, -82}};

/* car_racing.py's constants, evaluated in Python's order so the doubles are the same. */
#define CR_SCALE 6.0
#define CR_ZOOM 2.7
#define CR_PLAYFIELD (2000 / CR_SCALE)
#define CR_GRASS_DIM (CR_PLAYFIELD / 20.0)
#define CR_FRAC_BITS 14 /* smoothscale's SSE filters: what x86-64 builds of pygame run */

#define CR_BAND_ROWS 64 /* rows drawn and shrunk at a time: 256 KB of canvas, kept in cache */
#define CR_GRASS_QUADS 400 /* the grass patches: 20 x 20 */
#define CR_MAX_PG 24       /* pygame.draw polygons: 12 of the car, 8 of the indicators */

/* One gfxdraw polygon (aapolygon, then filled_polygon), in screen coordinates. */
typedef struct {
    int16_t x[4], y[4];
    int miny, maxy;
    uint32_t rgb;
} cr_quad;

/* One pygame.draw.polygon, on the canvas or (flipped set) on its flipped view. */
typedef struct {
    int x[8], y[8];
    int n, miny, maxy, flipped;
    uint32_t rgb;
} cr_pgpoly;

struct cr_renderer {
    uint32_t *canvas; /* (CR_WINDOW_H, CR_WINDOW_W) 0x00RRGGBB: pygame's 1000 x 800 surface */
    /* The frame's primitives in drawing order, gathered first so that the canvas can then be drawn
     * and shrunk band by band (each band sees the same operations in the same order). */
    cr_quad *quad; /* (quad_cap): field, grass, road; grown only when a track has more tiles */
    int quad_cap, nquad, black; /* black: the canvas starts black (the field does not cover it) */
    int flushed; /* the list was full (it could not grow): quads drawn early, the frame in one band */
    cr_pgpoly pg[CR_MAX_PG];
    int npg;
    raster_shrink shrink; /* smoothscale's state and scratch */
};

cr_renderer *cr_renderer_create(void)
{
    cr_renderer *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->canvas = malloc((size_t)CR_WINDOW_W * CR_WINDOW_H * sizeof *r->canvas);
    r->quad_cap = 1 + CR_GRASS_QUADS + 1024;
    r->quad = malloc((size_t)r->quad_cap * sizeof *r->quad);
    if (!r->canvas || !r->quad) {
        cr_renderer_free(r);
        return NULL;
    }
    return r;
}

void cr_renderer_free(cr_renderer *r)
{
    if (!r)
        return;
    free(r->canvas);
    free(r->quad);
    free(r);
}

/* pygame.math.Vector2.rotate_rad (math.c _vector2_rotate_helper): the angle reduced to [0, 2 pi),
 * exact quarter turns (within 1e-6) special-cased, else cos/sin. Decided once per frame. */
typedef struct {
    int quarter; /* 0..3 for an exact quarter turn, -1 for the general case */
    double c, s;
} cr_rot;

static cr_rot rot_make(double angle)
{
    const double eps = 1e-6, two_pi = 2.0 * M_PI;
    cr_rot q = {-1, 0, 0};
    angle = fmod(angle, two_pi);
    if (angle < 0)
        angle += two_pi;
    if (fmod(angle + eps, M_PI_2) < 2 * eps) {
        q.quarter = (int)((angle + eps) / M_PI_2) % 4;
    } else {
        q.s = sin(angle);
        q.c = cos(angle);
    }
    return q;
}

static void rot_apply(const cr_rot *q, double x, double y, double *ox, double *oy)
{
    switch (q->quarter) {
    case 0: *ox = x; *oy = y; break;
    case 1: *ox = -y; *oy = x; break;
    case 2: *ox = -x; *oy = -y; break;
    case 3: *ox = y; *oy = -x; break;
    default:
        *ox = q->c * x - q->s * y;
        *oy = q->s * x + q->c * y;
    }
}

typedef struct {
    raster_canvas c;
    cr_rot rot;
    double zoom, tx, ty;
    cr_renderer *r; /* where the primitives go */
} cr_view;

/* Records one pygame.draw.polygon for the band loop. */
static void add_pg(cr_renderer *r, const int *ix, const int *iy, int n, uint32_t rgb, int flipped)
{
    assert(r->npg < CR_MAX_PG && n <= 8);
    cr_pgpoly *p = &r->pg[r->npg++];
    p->n = n, p->rgb = rgb, p->flipped = flipped;
    p->miny = INT_MAX, p->maxy = INT_MIN;
    for (int i = 0; i < n; i++) {
        p->x[i] = ix[i], p->y[i] = iy[i];
        p->miny = iy[i] < p->miny ? iy[i] : p->miny;
        p->maxy = iy[i] > p->maxy ? iy[i] : p->maxy;
    }
}

/* Whether a convex polygon holds the whole canvas with 2 pixels to spare on every edge, so that its
 * fill leaves no canvas pixel unpainted (a span's ends are within a pixel of the true edge). */
static int covers_canvas(raster_canvas c, const int16_t *vx, const int16_t *vy, int n)
{
    const double corner[4][2] = {{-1, -1}, {c.w, -1}, {c.w, c.h}, {-1, c.h}};
    int sign = 0;
    for (int i = 0; i < n; i++) {
        const int j = (i + 1) % n;
        const double ex = vx[j] - vx[i], ey = vy[j] - vy[i], len = sqrt(ex * ex + ey * ey);
        for (int k = 0; k < 4; k++) {
            const double cross = ex * (corner[k][1] - vy[i]) - ey * (corner[k][0] - vx[i]);
            const int sg = cross > 0 ? 1 : -1;
            if (fabs(cross) < 2 * len || (sign && sg != sign))
                return 0;
            sign = sg;
        }
    }
    return 1;
}

/* Draws the recorded quads on the whole canvas and empties the list: only when it is full (it could
 * not grow), after which the frame is drawn as one band, so the order of operations stays pygame's. */
static void flush_quads(cr_renderer *r, raster_canvas c)
{
    if (r->black)
        raster_clear(c, 0);
    r->black = 0;
    for (int i = 0; i < r->nquad; i++) {
        raster_gfx_aapolygon(c, r->quad[i].x, r->quad[i].y, 4, r->quad[i].rgb);
        raster_gfx_filled_polygon(c, r->quad[i].x, r->quad[i].y, 4, r->quad[i].rgb);
    }
    r->nquad = 0;
    r->flushed = 1;
}

/* _draw_colored_polygon: world -> screen, Gymnasium's MAX_SHAPE_DIM visibility test (unless !clip),
 * then gfxdraw.aapolygon and gfxdraw.filled_polygon in the same colour. With covered set, first
 * paints the canvas black (a new pygame.Surface) unless the polygon covers it all, and says whether
 * it did. */
static void draw_colored_polygon(const cr_view *v, const double (*xy)[2], int n, uint32_t rgb, int clip,
                                 int *covered)
{
    const double max_shape_dim = CR_GRASS_DIM * sqrt(2.0) * CR_ZOOM * CR_SCALE; /* GRASS_DIM is the max */
    double px[RASTER_MAX_POLY], py[RASTER_MAX_POLY];
    int visible = !clip;
    for (int i = 0; i < n; i++) {
        double rx, ry;
        rot_apply(&v->rot, xy[i][0], xy[i][1], &rx, &ry);
        px[i] = rx * v->zoom + v->tx;
        py[i] = ry * v->zoom + v->ty;
        if (-max_shape_dim <= px[i] && px[i] <= CR_WINDOW_W + max_shape_dim && -max_shape_dim <= py[i] &&
            py[i] <= CR_WINDOW_H + max_shape_dim)
            visible = 1;
    }
    if (!visible)
        return;
    int16_t ix[RASTER_MAX_POLY], iy[RASTER_MAX_POLY];
    int minx = INT16_MAX, maxx = INT16_MIN, miny = INT16_MAX, maxy = INT16_MIN;
    for (int i = 0; i < n; i++) {
        ix[i] = raster_gfx_coord(px[i]);
        iy[i] = raster_gfx_coord(py[i]);
        minx = ix[i] < minx ? ix[i] : minx;
        maxx = ix[i] > maxx ? ix[i] : maxx;
        miny = iy[i] < miny ? iy[i] : miny;
        maxy = iy[i] > maxy ? iy[i] : maxy;
    }
    if (covered) {
        *covered = covers_canvas(v->c, ix, iy, n);
        v->r->black = !*covered;
    }
    /* Wholly beside the canvas: SDL_gfx would clip every pixel away (lines are rejected at once). */
    if (maxx < 0 || minx >= v->c.w || maxy < 0 || miny >= v->c.h)
        return;
    if (v->r->nquad == v->r->quad_cap)
        flush_quads(v->r, v->c);
    assert(n == 4); /* the field, the grass and the road are quads */
    cr_quad *q = &v->r->quad[v->r->nquad++];
    for (int i = 0; i < 4; i++)
        q->x[i] = ix[i], q->y[i] = iy[i];
    q->miny = miny, q->maxy = maxy, q->rgb = rgb;
}

/* Car.draw's path for one fixture: Box2D's float32 transform (b2Mul: rotation by the body's
 * sinf/cosf, then position), then rotate_rad, zoom and translation in double, then
 * pygame.draw.polygon. */
static void draw_body_poly(const cr_view *v, const cr_pose *pose, const float (*local)[2], int n, uint32_t rgb)
{
    const float a = (float)pose->angle, qs = sinf(a), qc = cosf(a);
    const float bx = (float)pose->x, by = (float)pose->y;
    int ix[RASTER_MAX_POLY], iy[RASTER_MAX_POLY];
    for (int i = 0; i < n; i++) {
        float wx = (qc * local[i][0] - qs * local[i][1]) + bx;
        float wy = (qs * local[i][0] + qc * local[i][1]) + by;
        double rx, ry;
        rot_apply(&v->rot, (double)wx, (double)wy, &rx, &ry);
        ix[i] = raster_pg_coord(rx * v->zoom + v->tx);
        iy[i] = raster_pg_coord(ry * v->zoom + v->ty);
    }
    add_pg(v->r, ix, iy, n, rgb, 0);
}

static void draw_car(const cr_view *v, const cr_scene *s)
{
    const uint32_t wheel_black = raster_rgb(0, 0, 0), wheel_white = raster_rgb(77, 77, 77);
    const uint32_t hull_red = raster_rgb((int)(0.8 * 255), 0, 0); /* int(c * 255) of (0.8, 0, 0) */
    /* Box2D keeps the vertices as float32 of Python's x * SIZE. */
    const double wx = CR_WHEEL_W * CR_SIZE, wr = CR_WHEEL_R * CR_SIZE;
    const float wheel_box[4][2] = {
        {(float)(-CR_WHEEL_W * CR_SIZE), (float)wr}, {(float)wx, (float)wr},
        {(float)wx, (float)(-CR_WHEEL_R * CR_SIZE)}, {(float)(-CR_WHEEL_W * CR_SIZE), (float)(-CR_WHEEL_R * CR_SIZE)}};
    for (int w = 0; w < 4; w++) { /* drawlist = wheels + [hull] */
        draw_body_poly(v, &s->wheel[w], wheel_box, 4, wheel_black);
        double a1 = s->wheel_phase[w], a2 = s->wheel_phase[w] + 1.2;
        double s1 = sin(a1), s2 = sin(a2), c1 = cos(a1), c2 = cos(a2);
        if (s1 > 0 && s2 > 0)
            continue;
        if (s1 > 0) /* np.sign */
            c1 = c1 > 0 ? 1.0 : c1 < 0 ? -1.0 : 0.0;
        if (s2 > 0)
            c2 = c2 > 0 ? 1.0 : c2 < 0 ? -1.0 : 0.0;
        const float stripe[4][2] = {
            {(float)(-CR_WHEEL_W * CR_SIZE), (float)(CR_WHEEL_R * c1 * CR_SIZE)},
            {(float)(CR_WHEEL_W * CR_SIZE), (float)(CR_WHEEL_R * c1 * CR_SIZE)},
            {(float)(CR_WHEEL_W * CR_SIZE), (float)(CR_WHEEL_R * c2 * CR_SIZE)},
            {(float)(-CR_WHEEL_W * CR_SIZE), (float)(CR_WHEEL_R * c2 * CR_SIZE)}};
        draw_body_poly(v, &s->wheel[w], stripe, 4, wheel_white);
    }
    for (int f = 0; f < 4; f++) {
        float local[8][2];
        for (int i = 0; i < cr_hull_poly_len[f]; i++) {
            local[i][0] = (float)(cr_hull_poly[f][i][0] * CR_SIZE);
            local[i][1] = (float)(cr_hull_poly[f][i][1] * CR_SIZE);
        }
        draw_body_poly(v, &s->hull, (const float (*)[2])local, cr_hull_poly_len[f], hull_red);
    }
}

static void pg_quad(cr_renderer *r, const double (*p)[2], uint32_t rgb)
{
    int ix[4], iy[4];
    for (int i = 0; i < 4; i++) {
        ix[i] = raster_pg_coord(p[i][0]);
        iy[i] = raster_pg_coord(p[i][1]);
    }
    add_pg(r, ix, iy, 4, rgb, 1);
}

/* _render_indicators(W, H) on the flipped surface: the black bar, then each bar whose value
 * exceeds 1e-4 in magnitude (render_if_min). */
static void draw_indicators(cr_renderer *r, const cr_scene *s)
{
    const double W = CR_WINDOW_W, H = CR_WINDOW_H, sw = W / 40.0, h = H / 40.0;
    const double bar[4][2] = {{W, H}, {W, H - 5 * h}, {0, H - 5 * h}, {0, H}};
    pg_quad(r, bar, raster_rgb(0, 0, 0));
    const double true_speed = sqrt(s->hull_vx * s->hull_vx + s->hull_vy * s->hull_vy);
    struct {
        int vertical;
        double place, value, val;
        uint32_t rgb;
    } ind[7] = {
        {1, 5, true_speed, 0.02 * true_speed, raster_rgb(255, 255, 255)},
        {1, 7, s->wheel_omega[0], 0.01 * s->wheel_omega[0], raster_rgb(0, 0, 255)},
        {1, 8, s->wheel_omega[1], 0.01 * s->wheel_omega[1], raster_rgb(0, 0, 255)},
        {1, 9, s->wheel_omega[2], 0.01 * s->wheel_omega[2], raster_rgb(51, 0, 255)},
        {1, 10, s->wheel_omega[3], 0.01 * s->wheel_omega[3], raster_rgb(51, 0, 255)},
        {0, 20, s->steer, -10.0 * s->steer, raster_rgb(0, 255, 0)},
        {0, 30, s->hull_omega, -0.8 * s->hull_omega, raster_rgb(255, 0, 0)},
    };
    for (int i = 0; i < 7; i++) {
        if (!(fabs(ind[i].value) > 1e-4))
            continue;
        const double pl = ind[i].place, val = ind[i].val;
        if (ind[i].vertical) {
            const double top = H - (h + h * val);
            const double q[4][2] = {{pl * sw, top}, {(pl + 1) * sw, top}, {(pl + 1) * sw, H - h}, {(pl + 0) * sw, H - h}};
            pg_quad(r, q, ind[i].rgb);
        } else {
            const double q[4][2] = {
                {(pl + 0) * sw, H - 4 * h}, {(pl + val) * sw, H - 4 * h}, {(pl + val) * sw, H - 2 * h}, {(pl + 0) * sw, H - 2 * h}};
            pg_quad(r, q, ind[i].rgb);
        }
    }
}

/* Draws the recorded primitives on canvas rows [y0, y1) (flipped-view rows [H - y1, H - y0)). */
static void draw_band(const cr_renderer *r, raster_canvas c, raster_canvas flipped, int y0, int y1)
{
    const raster_rows rows = {y0, y1}, frows = {CR_WINDOW_H - y1, CR_WINDOW_H - y0};
    if (r->black)
        raster_clear_rows(c, rows, 0);
    for (int i = 0; i < r->nquad; i++) {
        const cr_quad *q = &r->quad[i];
        if (q->maxy < y0 || q->miny >= y1)
            continue;
        raster_gfx_aapolygon_rows(c, rows, q->x, q->y, 4, q->rgb);
        raster_gfx_filled_polygon_rows(c, rows, q->x, q->y, 4, q->rgb);
    }
    for (int i = 0; i < r->npg; i++) {
        const cr_pgpoly *p = &r->pg[i];
        const raster_rows pr = p->flipped ? frows : rows;
        if (p->maxy < pr.lo || p->miny >= pr.hi)
            continue;
        raster_pg_polygon_rows(p->flipped ? flipped : c, pr, p->x, p->y, p->n, p->rgb);
    }
}

void cr_render_state_pixels(cr_renderer *r, const cr_scene *s, uint8_t *out)
{
    raster_canvas c = {r->canvas, CR_WINDOW_W, CR_WINDOW_H, CR_WINDOW_W};
    const raster_canvas flipped = raster_canvas_flipped(c); /* pygame.transform.flip(surf, False, True) */
    const int need = 1 + CR_GRASS_QUADS + (s->n_road > 0 ? s->n_road : 0);
    if (need > r->quad_cap) {
        cr_quad *q = realloc(r->quad, (size_t)need * sizeof *q);
        if (q) {
            r->quad = q;
            r->quad_cap = need;
        }
    }
    r->nquad = r->npg = 0;
    r->black = r->flushed = 0;
    cr_view v = {.c = c, .r = r};
    const double angle = -s->hull.angle;
    /* zoom = 0.1 * SCALE * max(1 - t, 0) + ZOOM * SCALE * min(t, 1) */
    v.zoom = 0.1 * CR_SCALE * fmax(1 - s->t, 0) + CR_ZOOM * CR_SCALE * fmin(s->t, 1);
    v.rot = rot_make(angle);
    double tx, ty;
    rot_apply(&v.rot, -(s->hull.x) * v.zoom, -(s->hull.y) * v.zoom, &tx, &ty);
    v.tx = CR_WINDOW_W / 2.0 + tx;
    v.ty = CR_WINDOW_H / 4.0 + ty;

    const double b = CR_PLAYFIELD;
    const double field[4][2] = {{b, b}, {b, -b}, {-b, -b}, {-b, b}};
    const uint32_t bg = raster_rgb(s->bg_rgb[0], s->bg_rgb[1], s->bg_rgb[2]);
    int covered; /* the field covers the canvas except while zoomed out (t < 1): then black shows */
    draw_colored_polygon(&v, field, 4, bg, 0, &covered);
    const uint32_t grass = raster_rgb(s->grass_rgb[0], s->grass_rgb[1], s->grass_rgb[2]);
    const double g = CR_GRASS_DIM;
    for (int x = -20; x < 20; x += 2) {
        for (int y = -20; y < 20; y += 2) {
            const double p[4][2] = {{g * x + g, g * y + 0}, {g * x + 0, g * y + 0}, {g * x + 0, g * y + g}, {g * x + g, g * y + g}};
            draw_colored_polygon(&v, p, 4, grass, 1, NULL);
        }
    }
    for (int i = 0; i < s->n_road; i++) {
        const cr_road_poly *rp = &s->road[i];
        draw_colored_polygon(&v, (const double (*)[2])rp->xy, 4, raster_rgb(rp->rgb[0], rp->rgb[1], rp->rgb[2]), 1,
                             NULL);
    }
    draw_car(&v, s);
    draw_indicators(r, s);

    /* Each band drawn, then shrunk while in cache; the shrink takes the flipped rows from the top. */
    const int band = r->flushed ? CR_WINDOW_H : CR_BAND_ROWS;
    raster_shrink_begin(&r->shrink, CR_WINDOW_W, CR_WINDOW_H, CR_STATE_W, CR_STATE_H, CR_FRAC_BITS);
    for (int f0 = 0; f0 < CR_WINDOW_H; f0 += band) {
        const int f1 = f0 + band < CR_WINDOW_H ? f0 + band : CR_WINDOW_H;
        draw_band(r, c, flipped, CR_WINDOW_H - f1, CR_WINDOW_H - f0);
        raster_shrink_rows(&r->shrink, flipped, f1, out);
    }
}
