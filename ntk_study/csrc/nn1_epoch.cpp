#include <torch/extension.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <omp.h>
#include "simd.h"

// SGD epochs of depth-1 NTK networks (chapter 03b_training), AVX2 + FMA, float32. A network is one member, or a centred
// pair of members with coefficients +-1/sqrt(2). Member m: E0 (D, N) = W0^T / sqrt(D), b0 (N), E1 (N) = W1^T / sqrt(N),
// b1 (1). For the epoch each member's parameters are packed block by block (8 units: E0, b0, E1 side by side, one
// stream through memory). A step: each member's forward pass (2 blocks x 4 batch rows in registers), then its backward
// pass and update, block by block, every weight read before it is written. The batch is pre-broadcast once per step:
// full-width loads are cheaper than broadcasts on the CPUs measured.

// A member's parameters packed by blocks of 8 units: rows 0..D-1 of E0, then b0, then E1 (8 floats each), contiguous;
// units past N are zero and stay zero (their output weight is zero, so their gradients are zero).
template <int D> constexpr int64_t BLOCK = 8 * (D + 2);

// The batch pre-broadcast: xt[(k * 8 + i) * 8 + l] = x[i, k] for every lane l
template <int D> static void broadcast_batch(const float* xb, float* xt) {
    for (int k = 0; k < D; ++k)
        for (int i = 0; i < 8; ++i) _mm256_store_ps(xt + (k * 8 + i) * 8, _mm256_set1_ps(xb[i * D + k]));
}

// Forward pass over blocks [blk0, blk1) (an even number) of a member, two blocks at a time: pre-activations to z (64
// floats a block), the output summed into f[8]
template <int D> static void forward(const float* P, float* z, int64_t blk0, int64_t blk1, const float* xt, float* f) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 fp[8];
    for (int i = 0; i < 8; ++i) fp[i] = zero;
    for (int64_t b = blk0; b < blk1; b += 2) {
        const float *q = P + b * BLOCK<D>, *r = q + BLOCK<D>;
        for (int h = 0; h < 8; h += 4) {
            __m256 a[4], c[4];
            const __m256 bq = _mm256_load_ps(q + 8 * D), br = _mm256_load_ps(r + 8 * D);
            for (int i = 0; i < 4; ++i) {
                a[i] = bq;
                c[i] = br;
            }
            for (int k = 0; k < D; ++k) {
                const __m256 eq = _mm256_load_ps(q + 8 * k), er = _mm256_load_ps(r + 8 * k);
                for (int i = 0; i < 4; ++i) {
                    const __m256 xv = _mm256_load_ps(xt + (k * 8 + h + i) * 8);
                    a[i] = _mm256_fmadd_ps(xv, eq, a[i]);
                    c[i] = _mm256_fmadd_ps(xv, er, c[i]);
                }
            }
            const __m256 e1q = _mm256_load_ps(q + 8 * (D + 1)), e1r = _mm256_load_ps(r + 8 * (D + 1));
            for (int i = 0; i < 4; ++i) {
                _mm256_store_ps(z + b * 64 + (h + i) * 8, a[i]);
                _mm256_store_ps(z + (b + 1) * 64 + (h + i) * 8, c[i]);
                fp[h + i] = _mm256_fmadd_ps(_mm256_max_ps(a[i], zero), e1q, fp[h + i]);
                fp[h + i] = _mm256_fmadd_ps(_mm256_max_ps(c[i], zero), e1r, fp[h + i]);
            }
        }
    }
    for (int i = 0; i < 8; ++i) f[i] = hsum(fp[i]);
}

// Backward pass and update of blocks [blk0, blk1) for the batch's dL/df g (8 rows; zero for padding rows)
template <int D>
static void backward_update(float* P, const float* z, int64_t blk0, int64_t blk1, const float* xt, const float* g,
                            float lr, float s0sq, float s1sq) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 c1 = _mm256_set1_ps(-lr * s1sq), c0 = _mm256_set1_ps(-lr * s0sq), clr = _mm256_set1_ps(-lr);
    for (int64_t b = blk0; b < blk1; ++b) {
        float* q = P + b * BLOCK<D>;
        const float* zb = z + b * 64;
        const __m256 e1 = _mm256_load_ps(q + 8 * (D + 1)); // the step's old output weights, for the backward pass
        __m256 up1 = zero, g0sum = zero, g0[8];
        for (int i = 0; i < 8; ++i) {
            const __m256 zi = _mm256_load_ps(zb + 8 * i), gi = _mm256_broadcast_ss(g + i);
            up1 = _mm256_fmadd_ps(_mm256_max_ps(zi, zero), gi, up1);
            g0[i] = _mm256_and_ps(_mm256_mul_ps(gi, e1), _mm256_cmp_ps(zi, zero, _CMP_GT_OQ));
            g0sum = _mm256_add_ps(g0sum, g0[i]);
            g0[i] = _mm256_mul_ps(c0, g0[i]);
        }
        _mm256_store_ps(q + 8 * (D + 1), _mm256_fmadd_ps(c1, up1, e1));
        _mm256_store_ps(q + 8 * D, _mm256_fmadd_ps(clr, g0sum, _mm256_load_ps(q + 8 * D)));
        for (int k = 0; k < D;
             ++k) { // E0[k] += sum_i x[i, k] (c0 g0[i]): the sum in two interleaved chains, then one rounding of E0
            const float* xk = xt + k * 64;
            __m256 u = _mm256_mul_ps(_mm256_load_ps(xk), g0[0]), v = _mm256_mul_ps(_mm256_load_ps(xk + 8), g0[1]);
            for (int i = 2; i < 8; i += 2) {
                u = _mm256_fmadd_ps(_mm256_load_ps(xk + 8 * i), g0[i], u);
                v = _mm256_fmadd_ps(_mm256_load_ps(xk + 8 * i + 8), g0[i + 1], v);
            }
            _mm256_store_ps(q + 8 * k, _mm256_add_ps(_mm256_load_ps(q + 8 * k), _mm256_add_ps(u, v)));
        }
    }
}

// unit blocks per chunk (even): the output is summed chunk by chunk in a fixed order, whatever the thread count
constexpr int64_t CHUNK = 16;

torch::Tensor nn1_epoch(torch::Tensor E0, torch::Tensor b0, torch::Tensor E1, torch::Tensor b1, torch::Tensor X,
                        torch::Tensor y, torch::Tensor owner, torch::Tensor coef, int64_t B, double lr_, double s0sq_,
                        double s1sq_) {
    for (auto* t : {&E0, &b0, &E1, &b1, &X, &y, &coef})
        TORCH_CHECK(t->dtype() == torch::kFloat32 && t->is_contiguous() && t->device().is_cpu(),
                    "nn1_epoch: contiguous float32 CPU tensors expected");
    TORCH_CHECK(owner.dtype() == torch::kInt64 && owner.is_contiguous(), "nn1_epoch: owner must be contiguous int64");
    TORCH_CHECK(E0.size(1) == 15 && B >= 1 && B <= 8,
                "nn1_epoch: compiled for 15 inputs and batches of at most 8 rows");
    constexpr int D = 15;
    constexpr int64_t S = BLOCK<D>;
    const int64_t n_members = E0.size(0), N = E0.size(2), n_nets = X.size(0), n_fit = X.size(1);
    const float lr = (float)lr_, s0sq = (float)s0sq_, s1sq = (float)s1sq_;
    const int64_t n_blocks = 2 * ((N + 15) / 16), n_chunks = (n_blocks + CHUNK - 1) / CHUNK;
    const int64_t* own = owner.data_ptr<int64_t>();
    const float* cf = coef.data_ptr<float>();
    float* packed = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * n_members * n_blocks * (S + 64)));
    TORCH_CHECK(packed != nullptr, "nn1_epoch: could not allocate ", sizeof(float) * n_members * n_blocks * (S + 64),
                " bytes for the packed weights");
    float* zbuf = packed + n_members * n_blocks * S;
    float *e0 = E0.data_ptr<float>(), *bb0 = b0.data_ptr<float>(), *e1 = E1.data_ptr<float>();
    std::vector<float> partial(2 * n_members * n_chunks * 8); // two generations: one barrier per step suffices
    auto out = torch::empty({n_nets}, torch::kFloat64);
    double* o = out.data_ptr<double>();
    const int n_threads = (int)std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), n_chunks / 16));
#pragma omp parallel num_threads(n_threads)
    {
        const int nth = omp_get_num_threads(), tid = omp_get_thread_num();
        // each thread's chunks hold as near as can be the same number of blocks (a thread that waits at the barrier
        // wastes its share)
        const int64_t c0 = (n_blocks * tid / nth + CHUNK / 2) / CHUNK,
                      c1 = tid == nth - 1 ? n_chunks : (n_blocks * (tid + 1) / nth + CHUNK / 2) / CHUNK;
        const int64_t blk0 = c0 * CHUNK, blk1 = std::min(n_blocks, c1 * CHUNK);
        for (int64_t m = 0; m < n_members; ++m) // pack this thread's blocks (each thread touches only its own)
            for (int64_t b = blk0; b < blk1; ++b) {
                float* q = packed + (m * n_blocks + b) * S;
                for (int l = 0; l < 8; ++l) {
                    const int64_t j = 8 * b + l;
                    const bool in = j < N;
                    for (int k = 0; k < D; ++k) q[8 * k + l] = in ? e0[(m * D + k) * N + j] : 0.0f;
                    q[8 * D + l] = in ? bb0[m * N + j] : 0.0f;
                    q[8 * (D + 1) + l] = in ? e1[m * N + j] : 0.0f;
                }
            }
        std::vector<float> b1p(n_members); // every thread applies the same output-bias updates to its own copy
        for (int64_t m = 0; m < n_members; ++m) b1p[m] = b1.data_ptr<float>()[m];
        alignas(32) float xb[8 * D], xt[D * 64], gm[8];
        int gen = 0;
        for (int64_t t = 0; t < n_nets; ++t) {
            int64_t m0 = 0;
            while (m0 < n_members && own[m0] != t) ++m0;
            int64_t m1 = m0;
            while (m1 < n_members && own[m1] == t) ++m1;
            const float *Xt = X.data_ptr<float>() + t * n_fit * D, *yt = y.data_ptr<float>() + t * n_fit;
            double total = 0.0;
            for (int64_t s = 0; s < n_fit; s += B) {
                const int64_t bs = std::min<int64_t>(B, n_fit - s);
                std::memset(xb, 0, sizeof(xb)); // rows >= bs are padding, with zero weight in the update
                std::memcpy(xb, Xt + s * D, bs * D * sizeof(float));
                broadcast_batch<D>(xb, xt);
                float* part = partial.data() + gen * n_members * n_chunks * 8;
                for (int64_t m = m0; m < m1; ++m)
                    for (int64_t c = c0; c < c1; ++c)
                        forward<D>(packed + m * n_blocks * S, zbuf + m * n_blocks * 64, c * CHUNK,
                                   std::min(n_blocks, (c + 1) * CHUNK), xt, part + (m * n_chunks + c) * 8);
#pragma omp barrier
                float f[8] = {0}, g[8];
                for (int64_t m = m0; m < m1; ++m)
                    for (int i = 0; i < 8; ++i) {
                        float fm = b1p[m];
                        for (int64_t c = 0; c < n_chunks; ++c) fm += part[(m * n_chunks + c) * 8 + i];
                        f[i] += cf[m] * fm;
                    }
                double loss = 0.0;
                for (int i = 0; i < 8; ++i) {
                    if (i < bs) {
                        const float r = f[i] - yt[s + i];
                        loss += (double)r * r;
                        g[i] = r * (2.0f / bs);
                    } else
                        g[i] = 0.0f;
                }
                total += loss; // = (batch mean loss) * bs
                for (int64_t m = m0; m < m1; ++m) {
                    float gsum = 0.0f;
                    for (int i = 0; i < 8; ++i) {
                        gm[i] = cf[m] * g[i];
                        gsum += gm[i];
                    }
                    backward_update<D>(packed + m * n_blocks * S, zbuf + m * n_blocks * 64, blk0, blk1, xt, gm, lr,
                                       s0sq, s1sq);
                    b1p[m] -= lr * gsum;
                }
                gen ^= 1;
            }
            if (tid == 0) o[t] = total / n_fit;
        }
        for (int64_t m = 0; m < n_members; ++m) // unpack
            for (int64_t b = blk0; b < blk1; ++b) {
                const float* q = packed + (m * n_blocks + b) * S;
                for (int l = 0; l < 8 && 8 * b + l < N; ++l) {
                    const int64_t j = 8 * b + l;
                    for (int k = 0; k < D; ++k) e0[(m * D + k) * N + j] = q[8 * k + l];
                    bb0[m * N + j] = q[8 * D + l];
                    e1[m * N + j] = q[8 * (D + 1) + l];
                }
            }
#pragma omp barrier
        if (tid == 0)
            for (int64_t m = 0; m < n_members; ++m) b1.data_ptr<float>()[m] = b1p[m];
    }
    std::free(packed);
    return out;
}
