/* pixels: the observation wrappers of image envs, on uint8 (H, W, C) frames: Gymnasium's
 * GrayscaleObservation (keep_dim) and Stable-Baselines3's VecFrameStack (channels last, the newest
 * frame in the last channels, zeros before an episode's first frame). A stack is one env's current
 * policy input, (H, W, channels * frames) bytes, owned by the caller; these functions only fill it.
 * Not the env API: the env still renders (H, W, 3) floats 0..255. */
#ifndef PPO_PPO_PIXELS_H
#define PPO_PPO_PIXELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int height, width, env_channels; /* the env's frame */
    int frame_channels;              /* 1 with grayscale, else env_channels */
    int frames;                      /* stacked frames, >= 1 */
    size_t size;                     /* bytes of a stack: height * width * frame_channels * frames */
} pix_stack;

void pix_stack_init(pix_stack *p, int height, int width, int env_channels, int frames, bool grayscale);
/* An episode's first frame: zeros, then obs (H, W, env_channels floats 0..255) as the newest frame. */
void pix_stack_reset(const pix_stack *p, uint8_t *stack, const float *obs);
/* The next frame: older frames move one place toward the front, obs becomes the newest. */
void pix_stack_push(const pix_stack *p, uint8_t *stack, const float *obs);
/* For a resume from a file: obs holds whole pixel values 0..255 and the stack's newest frame is obs
 * (after grayscale). The older frames may be any bytes. */
bool pix_stack_newest_matches(const pix_stack *p, const uint8_t *stack, const float *obs);

#endif
