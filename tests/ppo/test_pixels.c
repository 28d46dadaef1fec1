/* pixels: the observation wrappers of image envs. Grayscale against Gymnasium's GrayscaleObservation
 * as numpy computes it (reference bytes below from np.sum(np.multiply(obs, [0.2125, 0.7154, 0.0721]),
 * axis=-1).astype(np.uint8) with numpy on Debian 12), and frame stacking as SB3's VecFrameStack on a
 * channels-last image: zeros at an episode's start, the newest frame in the last channels, older frames
 * moving toward the front on every step. The resize (OpenCV's INTER_AREA) by hand on a few pixels.
 */
#include <stdint.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "ppo/pixels.h"

static void test_grayscale(void)
{
    /* (R, G, B) -> numpy's byte; 200,100,50 gives 117.38 and 10,250,7 gives 181.47: truncated, not rounded */
    const float rgb[6][3] = {{255, 255, 255}, {1, 2, 3}, {200, 100, 50}, {0, 0, 0}, {10, 250, 7}, {128, 128, 128}};
    const uint8_t want[6] = {255, 1, 117, 0, 181, 128};
    pix_stack p;
    pix_stack_init(&p, 2, 3, 3, 1, true, 0); /* a 2x3 image holds the 6 pixels */
    CHECK(p.frame_channels == 1 && p.size == 6, "gray stack: %d channels, %zu bytes", p.frame_channels, p.size);
    uint8_t out[6];
    pix_stack_reset(&p, out, &rgb[0][0]);
    for (int i = 0; i < 6; i++)
        CHECK(out[i] == want[i], "gray of (%g, %g, %g): %d, numpy %d", rgb[i][0], rgb[i][1], rgb[i][2], out[i], want[i]);
}

static void test_stack_order(void)
{
    /* 1x2 RGB frames, 3 stacked: per pixel 9 channels [oldest RGB | middle RGB | newest RGB] */
    pix_stack p;
    pix_stack_init(&p, 1, 2, 3, 3, false, 0);
    CHECK(p.frame_channels == 3 && p.size == 18, "rgb stack: %d channels, %zu bytes", p.frame_channels, p.size);
    float f1[6] = {1, 2, 3, 4, 5, 6}, f2[6] = {11, 12, 13, 14, 15, 16}, f3[6] = {21, 22, 23, 24, 25, 26};
    uint8_t s[18];
    memset(s, 0xAB, sizeof s);
    pix_stack_reset(&p, s, f1);
    const uint8_t after_reset[18] = {0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 4, 5, 6};
    CHECK(!memcmp(s, after_reset, 18), "reset: zeros then the first frame last");
    pix_stack_push(&p, s, f2);
    pix_stack_push(&p, s, f3);
    const uint8_t full[18] = {1, 2, 3, 11, 12, 13, 21, 22, 23, 4, 5, 6, 14, 15, 16, 24, 25, 26};
    CHECK(!memcmp(s, full, 18), "three frames: oldest first, per pixel");
    pix_stack_push(&p, s, f1); /* the oldest drops out */
    const uint8_t rolled[18] = {11, 12, 13, 21, 22, 23, 1, 2, 3, 14, 15, 16, 24, 25, 26, 4, 5, 6};
    CHECK(!memcmp(s, rolled, 18), "a fourth frame pushes the first out");
    pix_stack_reset(&p, s, f3); /* a new episode: no frame of the last one survives */
    const uint8_t again[18] = {0, 0, 0, 0, 0, 0, 21, 22, 23, 0, 0, 0, 0, 0, 0, 24, 25, 26};
    CHECK(!memcmp(s, again, 18), "reset clears the older frames");
}

/* The resize by hand, on the rules of OpenCV's INTER_AREA for uint8 (test_resize checks it against
 * OpenCV's own bytes): 2x2 blocks round halves up ((sum + 2) >> 2) for 1, 3 or 4 channels but to even
 * for 2 (its float path); a 1.5 ratio weights a cell's inputs by their overlap (2/3 and 1/3 per axis). */
static void test_resize_by_hand(void)
{
    /* 4x4 gray -> 2x2: blocks [0 0; 1 1] (mean 0.5), [1 2; 3 4] (2.5), [0 0; 0 1] (0.25), [255 x4] */
    const float g[16] = {0, 0, 1, 2, 1, 1, 3, 4, 0, 0, 255, 255, 0, 1, 255, 255};
    pix_stack p;
    pix_stack_init(&p, 4, 4, 1, 1, false, 2);
    uint8_t out[8];
    pix_resize(&p, g, out);
    CHECK(out[0] == 1 && out[1] == 3 && out[2] == 0 && out[3] == 255, "2x2 blocks: %d %d %d %d, want 1 3 0 255",
          out[0], out[1], out[2], out[3]);
    /* the same blocks as the first channel of a 2-channel image: 0.5 -> 0, 2.5 -> 2 (ties to even) */
    float g2[32];
    for (int i = 0; i < 16; i++)
        g2[2 * i] = g[i], g2[2 * i + 1] = 7;
    pix_stack_init(&p, 4, 4, 2, 1, false, 2);
    pix_resize(&p, g2, out);
    CHECK(out[0] == 0 && out[2] == 2 && out[4] == 0 && out[6] == 255 && out[1] == 7,
          "2-channel 2x2 blocks: %d %d %d %d, want 0 2 0 255", out[0], out[2], out[4], out[6]);
    /* 3x3 -> 2x2, one bright centre pixel that every cell overlaps by 1/3 x 1/3: 255 / 9 = 28.3 -> 28 */
    const float c[9] = {0, 0, 0, 0, 255, 0, 0, 0, 0};
    pix_stack_init(&p, 3, 3, 1, 2, false, 2);
    CHECK(p.height == 2 && p.width == 2 && p.size == 8, "3x3 resized to 2: %dx%d, %zu bytes", p.height, p.width, p.size);
    uint8_t s[8];
    pix_stack_reset(&p, s, c);
    const uint8_t want[8] = {0, 28, 0, 28, 0, 28, 0, 28};
    CHECK(!memcmp(s, want, 8), "1.5 ratio: %d %d %d %d, want 28 each", s[1], s[3], s[5], s[7]);
    CHECK(pix_stack_newest_matches(&p, s, c), "a resized stack matches its obs");
    s[5] ^= 1;
    CHECK(!pix_stack_newest_matches(&p, s, c), "a changed resized byte is refused");
    CHECK(pix_resize_fits(96, 96, 3, 64) && pix_resize_fits(96, 96, 3, 96) && !pix_resize_fits(96, 96, 3, 97) &&
              !pix_resize_fits(96, 96, 3, 0) && !pix_resize_fits(96, 96, 5, 64) && !pix_resize_fits(300, 300, 3, 64),
          "pix_resize_fits: downscaling only, 1 to 4 channels, frames up to %d", PIX_RESIZE_MAX_SIDE);
}

/* The resume check on a stack read from a file: whole pixel values 0..255, newest frame made from them. */
static void test_newest_matches(void)
{
    pix_stack p, g;
    pix_stack_init(&p, 1, 2, 3, 2, false, 0);
    pix_stack_init(&g, 1, 2, 3, 2, true, 0);
    float obs[6] = {1, 2, 3, 200, 100, 50};
    uint8_t s[12], sg[4];
    pix_stack_reset(&p, s, obs);
    pix_stack_reset(&g, sg, obs);
    CHECK(pix_stack_newest_matches(&p, s, obs) && pix_stack_newest_matches(&g, sg, obs), "a stack made from obs matches it");
    s[0] = 99; /* an older frame may hold anything */
    CHECK(pix_stack_newest_matches(&p, s, obs), "older frames are not checked");
    s[4] ^= 1;
    CHECK(!pix_stack_newest_matches(&p, s, obs), "a changed newest byte is refused");
    sg[3] ^= 1;
    CHECK(!pix_stack_newest_matches(&g, sg, obs), "a changed gray byte is refused");
    pix_stack_reset(&p, s, obs);
    const float bad[] = {-1.0f, 256.0f, 2.5f, NAN, 1e30f};
    for (int i = 0; i < 5; i++) {
        float o[6];
        memcpy(o, obs, sizeof o);
        o[2] = bad[i];
        CHECK(!pix_stack_newest_matches(&p, s, o), "pixel value %g is refused", bad[i]);
    }
}

int main(void)
{
    test_newest_matches();
    test_grayscale();
    test_stack_order();
    test_resize_by_hand();
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
