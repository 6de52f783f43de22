/* The gated scan over one chunk, starting from a given state; returns the final state. */
#include <stddef.h>
#include <stdint.h>

double gated_scan_chunk(const double *x, const uint8_t *gates, double decay, double *out,
                        size_t n, double state) {
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
    return state;
}
