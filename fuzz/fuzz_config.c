/* fuzz_config.c — libFuzzer target: config_from_json() on arbitrary JSON
 * text (parsed with json_loadb).  A config that parses must have sane
 * sizes and yield finite RoPE frequencies.  Seeds: fuzz/corpus/config/. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/config.h" /* config_from_json, config_rope_inv_freq */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    if (!root)
        return 0;
    mn_config cfg;
    mn_err err = {0};
    if (config_from_json("fuzz/config.json", root, &cfg, &err) == 0) {
        if (cfg.V <= 0 || cfg.C <= 0 || cfg.L <= 0 || cfg.H <= 0 || cfg.KV <= 0 || cfg.D <= 0 || cfg.F <= 0 ||
            cfg.H % cfg.KV != 0 || cfg.rotary_dim <= 0 || cfg.rotary_dim % 2 || cfg.rotary_dim > cfg.D)
            abort();
        double *inv = malloc((size_t)(cfg.rotary_dim / 2) * sizeof *inv);
        config_rope_inv_freq(&cfg, inv);
        for (int i = 0; i < cfg.rotary_dim / 2; i++)
            if (isnan(inv[i]))
                abort();
        free(inv);
    } else if (err.code == 0 || err.msg[0] == 0) {
        abort();
    }
    json_decref(root);
    return 0;
}
