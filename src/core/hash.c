/* FNV-1a 64: a small, stable hash for cache keys and checksums (operator
 * norm caches, checkpoint files, config fingerprints). Not cryptographic. */
#include "cbct/core.h"

#define FNV1A_PRIME 1099511628211ull

uint64_t cbct_fnv1a(uint64_t hash, const void *data, size_t bytes)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++)
        hash = (hash ^ p[i]) * FNV1A_PRIME;
    return hash;
}
