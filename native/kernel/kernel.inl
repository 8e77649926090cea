// The kernels written once, for the vector type the including ISA file chose: the operations a vector type must
// provide, the math, then each loss's pass.
#include "vec_requirements.inl"
#include "bce_math.inl"
#include "focal_math.inl"
#include "bce_kernel.inl"
#include "focal_kernel.inl"
#include "ce_kernel.inl"
