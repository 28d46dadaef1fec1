/* pixels: resize, grayscale and frame stacking of image observations (see pixels.h).
 * The resize reproduces OpenCV's cv::resize with INTER_AREA on uint8 images (modules/imgproc/src/
 * resize.cpp, 4.x: resizeAreaFast_ for whole ratios, computeResizeAreaTab + ResizeArea_Invoker for
 * others), arithmetic and rounding included, so the bytes equal Gymnasium's ResizeObservation's. */
#include "ppo/pixels.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* The env's float pixels as bytes (they are whole numbers 0..255; clamped for safety). */
static uint8_t to_byte(float v)
{
    return (uint8_t)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
}

/* OpenCV's saturate_cast<uchar>(float): cvRound (to nearest, ties to even), then clamped. */
static uint8_t round_byte(float v)
{
    const long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

/* Gymnasium's GrayscaleObservation: np.sum(obs * [0.2125, 0.7154, 0.0721], axis=-1) in float64,
 * summed left to right, then astype(np.uint8), which truncates */
static uint8_t gray(double r, double g, double b)
{
    const double v = r * 0.2125 + g * 0.7154 + b * 0.0721;
    return (uint8_t)(v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v));
}

/* computeResizeAreaTab: output cell d covers inputs [d * scale, (d + 1) * scale); each input it
 * overlaps gets the overlap / the cell's width (1e-3: OpenCV ignores slivers thinner than that). */
static void axis_init(pix_axis *a, int in, int out, double scale)
{
    int k = 0;
    for (int d = 0; d < out; d++) {
        a->first[d] = k;
        const double f1 = d * scale, f2 = f1 + scale;
        const double cell = in - f1 < scale ? in - f1 : scale;
        int s1 = (int)ceil(f1), s2 = (int)floor(f2);
        if (s2 > in - 1)
            s2 = in - 1;
        if (s1 > s2)
            s1 = s2;
        if (s1 - f1 > 1e-3)
            a->taps[k++] = (pix_tap){s1 - 1, d, (float)((s1 - f1) / cell)};
        for (int s = s1; s < s2; s++)
            a->taps[k++] = (pix_tap){s, d, (float)(1.0 / cell)};
        if (f2 - s2 > 1e-3) {
            const double part = f2 - s2 < 1.0 ? f2 - s2 : 1.0;
            a->taps[k++] = (pix_tap){s2, d, (float)((part < cell ? part : cell) / cell)};
        }
        assert(k <= in + 2 * (d + 1));
    }
    a->first[out] = k;
}

bool pix_resize_fits(int height, int width, int channels, int resize)
{
    return resize >= 1 && resize <= height && resize <= width && height <= PIX_RESIZE_MAX_SIDE &&
           width <= PIX_RESIZE_MAX_SIDE && channels >= 1 && channels <= PIX_RESIZE_MAX_CHANNELS;
}

/* cv::resize's choice for dsize != ssize: scale = 1 / (dsize / ssize) per axis; both whole (within
 * DBL_EPSILON): the integer path, else the weight tables. */
static void resize_init(pix_stack *p)
{
    const double sy = 1.0 / ((double)p->height / p->env_height), sx = 1.0 / ((double)p->width / p->env_width);
    const long iy = lrint(sy), ix = lrint(sx);
    if (fabs(sy - (double)iy) < DBL_EPSILON && fabs(sx - (double)ix) < DBL_EPSILON) {
        p->scale_y = (int)iy;
        p->scale_x = (int)ix;
        return;
    }
    axis_init(&p->ytab, p->env_height, p->height, sy);
    axis_init(&p->xtab, p->env_width, p->width, sx);
}

void pix_stack_init(pix_stack *p, int height, int width, int env_channels, int frames, bool grayscale, int resize)
{
    assert(resize == 0 || pix_resize_fits(height, width, env_channels, resize));
    if (resize && !pix_resize_fits(height, width, env_channels, resize))
        resize = 0; /* never out of the tables' bounds; callers compare p->size with their model's input */
    p->env_height = height;
    p->env_width = width;
    p->env_channels = env_channels;
    p->resize = resize > 0 ? resize : 0;
    p->height = p->resize ? p->resize : height;
    p->width = p->resize ? p->resize : width;
    p->frame_channels = grayscale && env_channels == 3 ? 1 : env_channels;
    p->frames = frames > 0 ? frames : 1;
    p->size = (size_t)p->height * (size_t)p->width * (size_t)p->frame_channels * (size_t)p->frames;
    p->scale_y = p->scale_x = 0;
    if (p->resize && (p->height != height || p->width != width))
        resize_init(p);
}

/* resizeAreaFast_: the mean of each scale_y x scale_x block. 2x2 blocks of 1, 3 or 4 channels take
 * OpenCV's integer rounding (sum + 2) >> 2; other blocks the int sum times the float 1 / area, rounded. */
static void resize_row_whole(const pix_stack *p, const float *obs, int dy, uint8_t *out)
{
    const int ec = p->env_channels, sy = p->scale_y, sx = p->scale_x, area = sy * sx;
    const bool halves = sy == 2 && sx == 2 && ec != 2;
    const float inv_area = 1.0f / (float)area;
    const size_t in_row = (size_t)p->env_width * (size_t)ec;
    for (int dx = 0; dx < p->width; dx++)
        for (int c = 0; c < ec; c++) {
            int sum = 0;
            for (int y = dy * sy; y < dy * sy + sy; y++)
                for (int x = dx * sx; x < dx * sx + sx; x++)
                    sum += to_byte(obs[(size_t)y * in_row + (size_t)x * (size_t)ec + (size_t)c]);
            out[(size_t)dx * (size_t)ec + (size_t)c] = halves ? (uint8_t)((sum + 2) >> 2)
                                                                : round_byte((float)sum * inv_area);
        }
}

/* The x pass of ResizeArea_Invoker on one input row (bytes as floats): buf (width, ec) = each output
 * pixel's taps summed in tap order from 0, as OpenCV adds them into its buf. Inlined for each channel
 * count, so the sums stay in registers. */
static inline void area_x(const pix_axis *xt, int width, size_t ec, const float *row, float *buf)
{
    for (int d = 0; d < width; d++) {
        float acc[PIX_RESIZE_MAX_CHANNELS] = {0};
        for (int k = xt->first[d]; k < xt->first[d + 1]; k++) {
            const float *px = row + (size_t)xt->taps[k].src * ec, a = xt->taps[k].alpha;
            for (size_t c = 0; c < ec; c++)
                acc[c] += px[c] * a;
        }
        for (size_t c = 0; c < ec; c++)
            buf[(size_t)d * ec + c] = acc[c];
    }
}

/* ResizeArea_Invoker, one output row: each input row of the row's cell is averaged along x in float
 * (buf), then the rows are summed with their y weights (sum), in OpenCV's order of operations. */
static void resize_row_area(const pix_stack *p, const float *obs, int dy, uint8_t *out)
{
    float row[PIX_RESIZE_MAX_SIDE * PIX_RESIZE_MAX_CHANNELS]; /* one input row's bytes */
    float buf[PIX_RESIZE_MAX_SIDE * PIX_RESIZE_MAX_CHANNELS], sum[PIX_RESIZE_MAX_SIDE * PIX_RESIZE_MAX_CHANNELS];
    const size_t ec = (size_t)p->env_channels, w = (size_t)p->width * ec, in_row = (size_t)p->env_width * ec;
    const pix_axis *yt = &p->ytab;
    for (int j = yt->first[dy]; j < yt->first[dy + 1]; j++) {
        const float *src = obs + (size_t)yt->taps[j].src * in_row;
        for (size_t i = 0; i < in_row; i++) { /* to_byte without its truncation, so that it vectorises: the */
            const float v = src[i] > 0.0f ? src[i] : 0.0f; /* env's pixels are whole; clamped (NaN: 0) for safety */
            row[i] = v < 255.0f ? v : 255.0f;
        }
        switch (ec) {
        case 1: area_x(&p->xtab, p->width, 1, row, buf); break;
        case 3: area_x(&p->xtab, p->width, 3, row, buf); break;
        default: area_x(&p->xtab, p->width, ec, row, buf); break;
        }
        const float beta = yt->taps[j].alpha;
        if (j == yt->first[dy])
            for (size_t i = 0; i < w; i++)
                sum[i] = beta * buf[i];
        else
            for (size_t i = 0; i < w; i++)
                sum[i] += beta * buf[i];
    }
    for (size_t i = 0; i < w; i++)
        out[i] = round_byte(sum[i]);
}

/* Output row dy of the resized frame: (width, env_channels) bytes. */
static void resize_row(const pix_stack *p, const float *obs, int dy, uint8_t *out)
{
    const size_t ec = (size_t)p->env_channels;
    if (p->height == p->env_height && p->width == p->env_width) { /* cv::resize copies */
        const float *row = obs + (size_t)dy * (size_t)p->env_width * ec;
        for (size_t i = 0; i < (size_t)p->width * ec; i++)
            out[i] = to_byte(row[i]);
    } else if (p->scale_x)
        resize_row_whole(p, obs, dy, out);
    else
        resize_row_area(p, obs, dy, out);
}

void pix_resize(const pix_stack *p, const float *obs, uint8_t *out)
{
    const size_t w = (size_t)p->width * (size_t)p->env_channels;
    for (int dy = 0; dy < p->height; dy++)
        resize_row(p, obs, dy, out + (size_t)dy * w);
}

/* One pixel's env channels px as the frame's fc channels at dst. */
static void frame_pixel(size_t ec, size_t fc, const float *px, uint8_t *dst)
{
    if (fc == 1 && ec == 3)
        dst[0] = gray(px[0], px[1], px[2]);
    else
        for (size_t c = 0; c < ec; c++)
            dst[c] = to_byte(px[c]);
}

/* The same for a resized pixel, already bytes. */
static void frame_pixel_bytes(size_t ec, size_t fc, const uint8_t *px, uint8_t *dst)
{
    if (fc == 1 && ec == 3)
        dst[0] = gray(px[0], px[1], px[2]);
    else
        memcpy(dst, px, ec);
}

/* Writes obs as the newest frame of the stack: the last frame_channels channels of every pixel. */
static void write_newest(const pix_stack *p, uint8_t *stack, const float *obs)
{
    const size_t ec = (size_t)p->env_channels, fc = (size_t)p->frame_channels, sc = fc * (size_t)p->frames;
    const size_t last = sc - fc, w = (size_t)p->width;
    if (!p->resize) {
        for (size_t i = 0; i < (size_t)p->height * w; i++)
            frame_pixel(ec, fc, obs + i * ec, stack + i * sc + last);
        return;
    }
    uint8_t row[PIX_RESIZE_MAX_SIDE * PIX_RESIZE_MAX_CHANNELS]; /* (width, env_channels): one resized row */
    for (int y = 0; y < p->height; y++) {
        resize_row(p, obs, y, row);
        for (size_t x = 0; x < w; x++)
            frame_pixel_bytes(ec, fc, row + x * ec, stack + ((size_t)y * w + x) * sc + last);
    }
}

void pix_stack_reset(const pix_stack *p, uint8_t *stack, const float *obs)
{
    memset(stack, 0, p->size);
    write_newest(p, stack, obs);
}

void pix_stack_push(const pix_stack *p, uint8_t *stack, const float *obs)
{
    if (p->frames > 1) {
        const size_t pixels = (size_t)p->height * (size_t)p->width, fc = (size_t)p->frame_channels;
        const size_t sc = fc * (size_t)p->frames;
        for (size_t i = 0; i < pixels; i++) /* SB3's np.roll(stackedobs, -C, axis=-1) */
            memmove(stack + i * sc, stack + i * sc + fc, sc - fc);
    }
    write_newest(p, stack, obs);
}

bool pix_stack_newest_matches(const pix_stack *p, const uint8_t *stack, const float *obs)
{
    const size_t ec = (size_t)p->env_channels, fc = (size_t)p->frame_channels, sc = fc * (size_t)p->frames;
    const size_t last = sc - fc, w = (size_t)p->width;
    const size_t env_values = (size_t)p->env_height * (size_t)p->env_width * ec;
    for (size_t i = 0; i < env_values; i++) /* the env's pixels are whole numbers 0..255 */
        if (!(obs[i] >= 0.0f && obs[i] <= 255.0f && obs[i] == (float)(int)obs[i]))
            return false;
    uint8_t want[16];
    if (ec > sizeof want) /* no env has more channels; refuse rather than guess */
        return false;
    if (!p->resize) {
        for (size_t i = 0; i < (size_t)p->height * w; i++) {
            frame_pixel(ec, fc, obs + i * ec, want);
            if (memcmp(want, stack + i * sc + last, fc))
                return false;
        }
        return true;
    }
    uint8_t row[PIX_RESIZE_MAX_SIDE * PIX_RESIZE_MAX_CHANNELS];
    for (int y = 0; y < p->height; y++) {
        resize_row(p, obs, y, row);
        for (size_t x = 0; x < w; x++) {
            frame_pixel_bytes(ec, fc, row + x * ec, want);
            if (memcmp(want, stack + ((size_t)y * w + x) * sc + last, fc))
                return false;
        }
    }
    return true;
}
