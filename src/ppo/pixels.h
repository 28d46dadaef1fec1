/* pixels: the observation wrappers of image envs, on uint8 (H, W, C) frames, in the order of
 * rl-baselines3-zoo's CarRacing wrappers: Gymnasium's ResizeObservation (OpenCV's INTER_AREA on the
 * uint8 frame, downscaling only), GrayscaleObservation (keep_dim) and Stable-Baselines3's
 * VecFrameStack (channels last, the newest frame in the last channels, zeros before an episode's first
 * frame). A stack is one env's current policy input, (height, width, channels * frames) bytes, owned by
 * the caller; these functions only fill it, allocate nothing and may run concurrently on one pix_stack.
 * Not the env API: the env still renders (H, W, 3) floats 0..255. */
#ifndef PPO_PPO_PIXELS_H
#define PPO_PPO_PIXELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIX_RESIZE_MAX_SIDE 256 /* --resize: env frames up to this height and width (CarRacing: 96) */
#define PIX_RESIZE_MAX_CHANNELS 4 /* OpenCV's area resize takes 1 to 4 channels */

/* One term of an area average along one axis: output index dst gets alpha * input index src
 * (OpenCV's DecimateAlpha). */
typedef struct {
    int src, dst;
    float alpha;
} pix_tap;

/* One axis of the resize: the taps of output index i are taps[first[i] .. first[i + 1]). Each input
 * is a whole tap of at most one output, plus at most two partial taps per output: in + 2 * out taps. */
typedef struct {
    int first[PIX_RESIZE_MAX_SIDE + 1];
    pix_tap taps[3 * PIX_RESIZE_MAX_SIDE];
} pix_axis;

typedef struct {
    int env_height, env_width, env_channels; /* the env's frame */
    int height, width;               /* the frame after the resize (the env's without one) */
    int resize;                      /* 0: none; else the frame is resized to resize x resize */
    int scale_y, scale_x;            /* resize by whole ratios: OpenCV's integer path; 0: the weight tables */
    pix_axis ytab, xtab;             /* resize by other ratios: the area weights */
    int frame_channels;              /* 1 with grayscale, else env_channels */
    int frames;                      /* stacked frames, >= 1 */
    size_t size;                     /* bytes of a stack: height * width * frame_channels * frames */
} pix_stack;

/* Whether an env frame of (height, width, channels) can be resized to resize x resize: downscaling
 * (resize <= height and width), resize >= 1, sides up to PIX_RESIZE_MAX_SIDE, 1 to 4 channels. */
bool pix_resize_fits(int height, int width, int channels, int resize);
/* resize 0: none; else it must fit (pix_resize_fits). The weight tables are computed here, once. */
void pix_stack_init(pix_stack *p, int height, int width, int env_channels, int frames, bool grayscale, int resize);
/* An episode's first frame: zeros, then obs (H, W, env_channels floats 0..255) as the newest frame. */
void pix_stack_reset(const pix_stack *p, uint8_t *stack, const float *obs);
/* The next frame: older frames move one place toward the front, obs becomes the newest. */
void pix_stack_push(const pix_stack *p, uint8_t *stack, const float *obs);
/* For a resume from a file: obs holds whole pixel values 0..255 and the stack's newest frame is obs
 * (after resize and grayscale). The older frames may be any bytes. */
bool pix_stack_newest_matches(const pix_stack *p, const uint8_t *stack, const float *obs);
/* obs (env_height, env_width, env_channels floats 0..255) resized to (height, width, env_channels)
 * bytes, as cv2.resize(obs.astype(np.uint8), (width, height), interpolation=cv2.INTER_AREA). */
void pix_resize(const pix_stack *p, const float *obs, uint8_t *out);

#endif
