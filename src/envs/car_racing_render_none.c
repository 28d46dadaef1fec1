/* car_racing_render_none: stands in for car_racing_render.c (branch cr-render) while that file is not
 * in the tree, so the env builds and its physics can be tested: it draws nothing (every pixel 0).
 * CMake picks the real renderer whenever src/envs/car_racing_render.c exists. Not a renderer. */
#include <stdlib.h>
#include <string.h>

#include "envs/car_racing_render.h"

struct cr_renderer {
    int unused;
};

cr_renderer *cr_renderer_create(void) { return calloc(1, sizeof(cr_renderer)); }

void cr_renderer_free(cr_renderer *r) { free(r); }

void cr_render_state_pixels(cr_renderer *r, const cr_scene *s, uint8_t *out)
{
    (void)r, (void)s;
    memset(out, 0, CR_STATE_H * CR_STATE_W * 3);
}
