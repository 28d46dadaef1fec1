/* registry: every env id ppo knows, in the order `ppo envs` lists them. */
#include "envs/classic.h"

const env_class *const env_registry[] = {
    &cartpole_class,
};

const int env_registry_count = (int)(sizeof env_registry / sizeof env_registry[0]);
