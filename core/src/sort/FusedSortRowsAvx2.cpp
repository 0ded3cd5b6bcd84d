// The fused soft sort's row kernels built with -mavx2 -mfma (CMake sets the flags on this file only);
// cpuKernels() selects them when the CPU reports both features.
#define NECO_SORT_ISA isa_avx2
#include "sort/FusedSortRows.inl"
