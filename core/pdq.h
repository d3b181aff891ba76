/* pdq.h - the PDQ hash (pdq.c) of a decoded grid or of a luma plane. */
#ifndef VIGIL_PDQ_H
#define VIGIL_PDQ_H

#include "internal.h"

/* pdq.c: the hash of a grid already pre-resized (both sides <= 512 or exactly 512x512). */
vigil_result vigil__pdq_hash(const vigil__pixels *px, vigil_pdq *hash, int *quality,
                             vigil_pdq dihedral[8]);

/* pdq.c: the hash of a float luma plane (rows x cols, row-major). Exposed for the bench harness's
 * "hash only" timing and for tests. */
vigil_result vigil__pdq_from_luma(const float *luma, int rows, int cols, vigil_pdq *hash, int *quality,
                                  vigil_pdq dihedral[8]);

#endif
