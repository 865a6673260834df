/* The split of a volume's z rows over ranks, in groups of `align` rows. */
#include "cbct/dist.h"

void cbct_slab_split(int64_t depth, int64_t align, int rank, int size, int64_t *z0, int64_t *nz)
{
    if (align < 1)
        align = 1;
    if (size < 1)
        size = 1;
    /* Groups of `align` rows (the last one may be shorter), dealt out as
     * contiguous runs whose lengths differ by at most one group. */
    int64_t groups = (depth + align - 1) / align;
    int64_t first = groups * rank / size, next = groups * (rank + 1) / size;
    int64_t start = first * align, end = next * align;
    if (start > depth)
        start = depth;
    if (end > depth)
        end = depth;
    *z0 = start;
    *nz = end - start;
}
