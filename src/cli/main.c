#include <stdio.h>
#include "ppo/env.h"
int main(void) { for (int i = 0; i < ppo_env_count(); i++) printf("%s\n", ppo_env_id_at(i)); return 0; }
