/* car_racing_render: CarRacing-v3's observation drawn in C, as Gymnasium's _render("state_pixels")
 * composes it with pygame: the 1000 x 800 surface (background, grass, road, car, flipped, then the
 * indicator bar and score), shrunk to 96 x 96 by pygame's smoothscale. Internal header. */
#ifndef PPO_ENVS_CAR_RACING_RENDER_H
#define PPO_ENVS_CAR_RACING_RENDER_H

#include <stdint.h>

#include "envs/car_racing_scene.h"

/* The canvas and scratch rows one env draws with; one per env (not shared between threads). */
typedef struct cr_renderer cr_renderer;

cr_renderer *cr_renderer_create(void); /* NULL when out of memory */
void cr_renderer_free(cr_renderer *r);

/* Writes CR_STATE_H * CR_STATE_W * 3 bytes: row-major RGB, top row first (Gymnasium's array). */
void cr_render_state_pixels(cr_renderer *r, const cr_scene *s, uint8_t *out);

#endif
