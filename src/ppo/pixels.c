/* pixels: grayscale and frame stacking of image observations (see pixels.h). */
#include "ppo/pixels.h"

#include <string.h>

void pix_stack_init(pix_stack *p, int height, int width, int env_channels, int frames, bool grayscale)
{
    p->height = height;
    p->width = width;
    p->env_channels = env_channels;
    p->frame_channels = grayscale && env_channels == 3 ? 1 : env_channels;
    p->frames = frames > 0 ? frames : 1;
    p->size = (size_t)height * (size_t)width * (size_t)p->frame_channels * (size_t)p->frames;
}

/* The env's float pixels as bytes (they are whole numbers 0..255; clamped for safety). */
static uint8_t to_byte(float v)
{
    return (uint8_t)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
}

/* One pixel's env channels px as the frame's fc channels at dst. */
static void frame_pixel(size_t ec, size_t fc, const float *px, uint8_t *dst)
{
    if (fc == 1 && ec == 3) {
        /* Gymnasium's GrayscaleObservation: np.sum(obs * [0.2125, 0.7154, 0.0721], axis=-1) in
         * float64, summed left to right, then astype(np.uint8), which truncates */
        const double g = (double)px[0] * 0.2125 + (double)px[1] * 0.7154 + (double)px[2] * 0.0721;
        dst[0] = (uint8_t)(g < 0.0 ? 0.0 : (g > 255.0 ? 255.0 : g));
    } else
        for (size_t c = 0; c < ec; c++)
            dst[c] = to_byte(px[c]);
}

/* Writes obs as the newest frame of the stack: the last frame_channels channels of every pixel. */
static void write_newest(const pix_stack *p, uint8_t *stack, const float *obs)
{
    const size_t pixels = (size_t)p->height * (size_t)p->width, ec = (size_t)p->env_channels;
    const size_t fc = (size_t)p->frame_channels, sc = fc * (size_t)p->frames, last = sc - fc;
    for (size_t i = 0; i < pixels; i++)
        frame_pixel(ec, fc, obs + i * ec, stack + i * sc + last);
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
    const size_t pixels = (size_t)p->height * (size_t)p->width, ec = (size_t)p->env_channels;
    const size_t fc = (size_t)p->frame_channels, sc = fc * (size_t)p->frames, last = sc - fc;
    for (size_t i = 0; i < pixels * ec; i++) /* the env's pixels are whole numbers 0..255 */
        if (!(obs[i] >= 0.0f && obs[i] <= 255.0f && obs[i] == (float)(int)obs[i]))
            return false;
    uint8_t want[16];
    if (ec > sizeof want) /* no env has more channels; refuse rather than guess */
        return false;
    for (size_t i = 0; i < pixels; i++) {
        frame_pixel(ec, fc, obs + i * ec, want);
        if (memcmp(want, stack + i * sc + last, fc))
            return false;
    }
    return true;
}
