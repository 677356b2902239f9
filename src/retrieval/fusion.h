/* fusion.h — combine ranked hit lists (BM25 and dense) into one ranking.
 *
 * Reciprocal-rank fusion (Cormack et al. 2009):
 *   score(d) = sum over lists containing d of 1 / (rrf_k + rank_l(d)),
 * rank from 1 in each list as given (lists must be best first), rrf_k = 60
 * by convention.
 *
 * Normalised-score fusion: each list's scores are min-max normalised,
 *   norm_l(d) = (s - min_l) / (max_l - min_l)   (1 when max_l == min_l),
 * and score(d) = sum over lists containing d of weight_l * norm_l(d); a
 * list that does not contain d contributes 0.  Hybrid search uses weights
 * (1 - alpha) for BM25 and alpha for dense.
 *
 * Both return the best k by fused score; ties rank the smaller chunk id
 * first, so the output does not depend on the order of the lists' equal
 * scores.  A chunk id appearing twice in one list counts once (its best
 * rank).
 *
 * Non-goals: score calibration across queries, z-score normalisation. */
#ifndef MNEMO_RETRIEVAL_FUSION_H
#define MNEMO_RETRIEVAL_FUSION_H

#include <stddef.h>

#include "retrieval/bm25.h" /* bm25_hit: the generic (chunk id, score) pair */
#include "util/err.h"

#define FUSION_RRF_K 60.0

/* lists[i][0..n[i]) for i < nlists.  *out (malloc'd, caller frees; NULL
 * when *nout == 0) gets up to k fused hits best first.  Errors: MN_ERANGE
 * (rrf_k < 0 or not finite), MN_ENOMEM. */
int fusion_rrf(const bm25_hit *const *lists, const size_t *n, int nlists, double rrf_k, size_t k, bm25_hit **out,
               size_t *nout, mn_err *err);

/* weights[nlists] (finite).  Errors: MN_ERANGE (a weight not finite),
 * MN_ENOMEM. */
int fusion_score(const bm25_hit *const *lists, const size_t *n, int nlists, const double *weights, size_t k,
                 bm25_hit **out, size_t *nout, mn_err *err);

#endif
