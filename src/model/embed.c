/* embed.c — pooled, normalised final hidden states (see embed.h). */
#include "model/embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/kvcache.h" /* kvcache_set_len */

int engine_embed(engine *e, int slot, const int32_t *ids, int n, embed_pooling pool, float *out,
                 mn_err *err)
{
    int C = engine_model(e)->cfg.C;
    if (n < 1)
        return mn_errf(err, MN_ERANGE, "embed: empty token sequence");
    if (slot < 0 || slot >= kvcache_n_slots(engine_kv(e)))
        return mn_errf(err, MN_ERANGE, "embed: slot %d outside [0, %d)", slot,
                       kvcache_n_slots(engine_kv(e)));
    float *h = malloc((size_t)n * C * sizeof(float)); /* [n, C] final hidden states */
    if (!h)
        return mn_errf(err, MN_ENOMEM, "embed: hidden states need %.1f MiB",
                       (double)n * C * sizeof(float) / (1024.0 * 1024.0));
    kvcache_set_len(engine_kv(e), slot, 0);
    engine_seg s = {slot, n, ids};
    int rc = engine_forward(e, &s, 1, ENGINE_HIDDEN_FINAL, NULL, h, err);
    if (!rc) {
        double *acc = xcalloc((size_t)C, sizeof *acc); /* [C] */
        int t0 = pool == EMBED_POOL_LAST ? n - 1 : 0;
        for (int t = t0; t < n; t++)
            for (int c = 0; c < C; c++)
                acc[c] += h[(size_t)t * C + c];
        double norm = 0.0;
        for (int c = 0; c < C; c++) {
            acc[c] /= n - t0;
            norm += acc[c] * acc[c];
        }
        norm = sqrt(norm);
        for (int c = 0; c < C; c++)
            out[c] = (float)(norm > 0.0 ? acc[c] / norm : 0.0);
        free(acc);
    }
    free(h);
    return rc;
}
