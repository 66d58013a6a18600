// Must not compile for the SIMT executor: grid-wide cooperative groups are not emulated.
#include <cooperative_groups.h>
__global__ void kernel() { cooperative_groups::this_grid().sync(); }
