/* The optimizer (adam.c) against steps computed by hand: two Adam steps and two RMSprop steps
 * (torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2, p -= lr g / (sqrt(v) + eps)) on three
 * parameters, the first two in the policy's range (lr 0.1 / 0.01), the third in the critic's; and the
 * step split over two ranges (as the trainer's threads do) equals the whole step. */
#include <string.h>

#include "check.h"
#include "ppo/adam.h"

#define TOL 2e-6 /* float arithmetic: (1 - 0.99f) is 0.0099999905 */

static const float g1[3] = {0.5f, -1.0f, 2.0f}, g2[3] = {1.0f, 0.0f, -1.0f};

static void test_adam(void)
{
    /* beta1 0.9, beta2 0.999, eps 1e-8; policy lr 0.1, critic lr 0.01.
     * step 1: m = 0.1 g, v = 0.001 g^2, so m_hat = g, v_hat = g^2 and p -= lr g / |g| (+eps):
     *   p = (1 - 0.1, 1 + 0.1, 1 - 0.01) = (0.9, 1.1, 0.99)
     * step 2, g = (1, 0, -1): p0: m = 0.9*0.05 + 0.1*1 = 0.145, v = 0.999*0.00025 + 0.001 = 0.00124975,
     *   m_hat = 0.145 / 0.19 = 0.7631579, v_hat = 0.00124975 / 0.001999 = 0.6251876, sqrt 0.7906884,
     *   p0 = 0.9 - 0.1 * 0.9651815 = 0.8034818;  p1: m = -0.09, v = 0.000999, m_hat = -0.4736842,
     *   sqrt(v_hat) = 0.7069296, p1 = 1.1 + 0.1 * 0.6700584 = 1.1670058;  p2: m = 0.08, v = 0.004996,
     *   m_hat = 0.4210526, sqrt(v_hat) = 1.5809178, p2 = 0.99 - 0.01 * 0.2663366 = 0.9873366 */
    adam_state a;
    CHECK(adam_init(&a, 3, 0.9, 0.999, 1e-8) == 0, "adam_init");
    float p[3] = {1, 1, 1};
    adam_step(&a, p, g1, 2, 0.1, 0.01);
    CHECK_NEAR(p[0], 0.9, TOL, "adam step 1 p0");
    CHECK_NEAR(p[1], 1.1, TOL, "adam step 1 p1");
    CHECK_NEAR(p[2], 0.99, TOL, "adam step 1 p2");
    adam_step(&a, p, g2, 2, 0.1, 0.01);
    CHECK_NEAR(p[0], 0.8034818006, TOL, "adam step 2 p0");
    CHECK_NEAR(p[1], 1.1670058235, TOL, "adam step 2 p1");
    CHECK_NEAR(p[2], 0.9873366297, TOL, "adam step 2 p2");
    CHECK(a.step == 2, "adam counted %ld steps", a.step);
    adam_free(&a);
}

static void test_rmsprop(void)
{
    /* alpha 0.99, eps 1e-5 (Stable-Baselines3's A2C); policy lr 0.01, critic lr 0.001.
     * step 1: v = 0.01 g^2 = (0.0025, 0.01, 0.04), sqrt(v) = (0.05, 0.1, 0.2):
     *   p0 = 1 - 0.01 * 0.5 / 0.05001 = 0.9000199960,  p1 = 1 + 0.01 * 1 / 0.10001 = 1.0999900010,
     *   p2 = 1 - 0.001 * 2 / 0.20001 = 0.9900005000  (the first step moves ~lr / sqrt(1 - alpha) = 10 lr)
     * step 2, g = (1, 0, -1): v = 0.99 v + 0.01 g^2 = (0.012475, 0.0099, 0.0496):
     *   p0 = 0.9000199960 - 0.01 / (0.1116915 + 1e-5) = 0.8104957151,  p1 unchanged (g = 0),
     *   p2 = 0.9900005000 + 0.001 / (0.2227106 + 1e-5) = 0.9944904309 */
    adam_state a;
    CHECK(adam_init_rmsprop(&a, 3, 0.99, 1e-5) == 0, "adam_init_rmsprop");
    float p[3] = {1, 1, 1};
    adam_step(&a, p, g1, 2, 0.01, 0.001);
    CHECK_NEAR(p[0], 0.9000199960, TOL, "rmsprop step 1 p0");
    CHECK_NEAR(p[1], 1.0999900010, TOL, "rmsprop step 1 p1");
    CHECK_NEAR(p[2], 0.9900005000, TOL, "rmsprop step 1 p2");
    CHECK_NEAR(a.v[0], 0.0025, 1e-7, "rmsprop step 1 v0");
    CHECK_NEAR(a.v[2], 0.04, 1e-7, "rmsprop step 1 v2");
    adam_step(&a, p, g2, 2, 0.01, 0.001);
    CHECK_NEAR(p[0], 0.8104957151, TOL, "rmsprop step 2 p0");
    CHECK_NEAR(p[1], 1.0999900010, TOL, "rmsprop step 2 p1");
    CHECK_NEAR(p[2], 0.9944904309, TOL, "rmsprop step 2 p2");
    CHECK_NEAR(a.v[0], 0.012475, 1e-7, "rmsprop step 2 v0");
    CHECK(a.m[0] == 0 && a.m[1] == 0 && a.m[2] == 0, "rmsprop wrote the first moment");
    CHECK(a.step == 2, "rmsprop counted %ld steps", a.step);
    adam_free(&a);
}

/* one step as two threads would take it ([0, 1) and [1, 3)) is the same step, for both optimizers */
static void test_split_ranges(void)
{
    for (int rms = 0; rms < 2; rms++) {
        adam_state whole, parts;
        if (rms) {
            adam_init_rmsprop(&whole, 3, 0.99, 1e-5);
            adam_init_rmsprop(&parts, 3, 0.99, 1e-5);
        } else {
            adam_init(&whole, 3, 0.9, 0.999, 1e-8);
            adam_init(&parts, 3, 0.9, 0.999, 1e-8);
        }
        float pw[3] = {1, 1, 1}, pp[3] = {1, 1, 1};
        for (int s = 0; s < 2; s++) {
            const float *g = s ? g2 : g1;
            adam_step(&whole, pw, g, 2, 0.01, 0.001);
            const adam_coef c = adam_begin(&parts, 2, 0.01, 0.001);
            adam_apply(&parts, &c, pp, g, 1, 3);
            adam_apply(&parts, &c, pp, g, 0, 1);
        }
        CHECK(!memcmp(pw, pp, sizeof pw) && !memcmp(whole.v, parts.v, 3 * sizeof(float)),
              "%s: a step in two ranges differs from the whole step", rms ? "rmsprop" : "adam");
        adam_free(&whole);
        adam_free(&parts);
    }
}

int main(void)
{
    test_adam();
    test_rmsprop();
    test_split_ranges();
    return CHECK_DONE();
}
