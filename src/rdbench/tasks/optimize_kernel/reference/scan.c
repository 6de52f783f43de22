/* Reference gated scan: one sequential pass, compiled with -O2 and called through ctypes. */
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
