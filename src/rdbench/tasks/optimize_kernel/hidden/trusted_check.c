/* The scorer's own check, compiled on the host (never in a jail): recompute the exact
 * sequential gated scan and compare a solution's output with it in the same pass.
 * Returns the number of positions outside the tolerance (NaN and infinities count). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

void gated_scan(const double *x, const uint8_t *gates, double decay, double *out, size_t n) {
    double state = 0.0;
    for (size_t i = 0; i < n; i++) {
        uint8_t gate = gates[i];
        double v = x[i];
        if (gate == 0) {
            state = decay * state + v;
        } else if (gate == 1) {
            state = state > v ? state : v;
        } else {
            state = v;
        }
        out[i] = state;
    }
}

size_t gated_check(const double *x, const uint8_t *gates, double decay, const double *y,
                   size_t n, double rtol, double atol) {
    double state = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t gate = gates[i];
        double v = x[i];
        if (gate == 0) {
            state = decay * state + v;
        } else if (gate == 1) {
            state = state > v ? state : v;
        } else {
            state = v;
        }
        double got = y[i];
        /* written so that a NaN in got fails the test */
        if (!(isfinite(got) && fabs(got - state) <= atol + rtol * fabs(state))) {
            bad++;
        }
    }
    return bad;
}
