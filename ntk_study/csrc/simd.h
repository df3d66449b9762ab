// Shared by the compiled training loops (chapter 03b_training): AVX2 + FMA, float32.
#pragma once
#include <immintrin.h>

// The sum of the 8 lanes of v
static inline float hsum(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_hadd_ps(lo, lo);
    lo = _mm_hadd_ps(lo, lo);
    return _mm_cvtss_f32(lo);
}
