// The fused soft sort's row kernels for the compiler's baseline target (see FusedSortRows.inl).
#define NECO_SORT_ISA isa_default
#include "sort/FusedSortRows.inl"
