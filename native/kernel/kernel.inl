// The kernel written once: the math, then the fused pass, for the vector type the including ISA file chose.
#include "bce_math.inl"
#include "bce_kernel.inl"
