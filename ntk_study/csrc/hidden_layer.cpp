#include <torch/extension.h>
#include <algorithm>
#include <omp.h>
#include "simd.h"

// The three products of a wide hidden layer for one SGD step with at most 8 batch rows (rows beyond the batch are
// zero), each one pass over the weight E (N rows = units below, M columns = units above; row-major), split between
// OpenMP threads so that every number is computed the same way whatever the thread count.
//   forward:  Z (8, M) = H (8, N) @ E           (H: activations below)
//   backward: P (8, N) = G (8, M) @ E^T         (G: dL/dz above)
//   update:   E -= c * H^T @ G

constexpr int64_t KB = 32; // rows of E per block in the forward pass (H pre-broadcast for them: 8 KB)
// floats ahead on each of the block's rows (the hardware prefetcher does not follow 32 streams)
constexpr int64_t PREFETCH = 256;

// Z[r..r+R, j..j+8V] += sum over the block's rows of H[r + i, k] E[k, j..], R x V vectors in registers
template <int R, int V>
static inline void forward_tile(const float* ek, int64_t M, int64_t kn, const float* hb, int r, float* z, int64_t j) {
    __m256 acc[R][V];
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < V; ++v) acc[i][v] = _mm256_loadu_ps(z + (r + i) * M + j + 8 * v);
    for (int64_t kk = 0; kk < kn; ++kk) {
        const float* row = ek + kk * M + j;
        if (r == 0) _mm_prefetch((const char*)(row + PREFETCH), _MM_HINT_T0);
        __m256 e[V];
        for (int v = 0; v < V; ++v) e[v] = _mm256_loadu_ps(row + 8 * v);
        for (int i = 0; i < R; ++i) {
            const __m256 x = _mm256_load_ps(hb + (kk * 8 + r + i) * 8);
            for (int v = 0; v < V; ++v) acc[i][v] = _mm256_fmadd_ps(x, e[v], acc[i][v]);
        }
    }
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < V; ++v) _mm256_storeu_ps(z + (r + i) * M + j + 8 * v, acc[i][v]);
}

// forward: columns split between threads (each writes its own columns of Z); 4 batch rows x 16 columns in registers
torch::Tensor hidden_forward(torch::Tensor H, torch::Tensor E) {
    const int64_t N = E.size(0), M = E.size(1);
    TORCH_CHECK(M % 8 == 0 && H.size(0) == 8 && H.size(1) == N,
                "hidden_forward: H (8, N), E (N, M), M a multiple of 8");
    const float *h = H.data_ptr<float>(), *e = E.data_ptr<float>();
    auto Z = torch::zeros({8, M}, H.options());
    float* z = Z.data_ptr<float>();
    const int64_t n_vec = M / 8;
    const int nth = std::max(1, std::min(omp_get_max_threads(), (int)(n_vec / 32)));
#pragma omp parallel num_threads(nth)
    {
        const int tid = omp_get_thread_num();
        const int64_t j0 = 16 * (n_vec / 2 * tid / nth), j1 = tid == nth - 1 ? M : 16 * (n_vec / 2 * (tid + 1) / nth);
        alignas(32) float hb[KB * 64];
        for (int64_t k0 = 0; k0 < N; k0 += KB) {
            const int64_t kn = std::min<int64_t>(KB, N - k0);
            for (int64_t kk = 0; kk < kn; ++kk)
                for (int i = 0; i < 8; ++i) _mm256_store_ps(hb + (kk * 8 + i) * 8, _mm256_set1_ps(h[i * N + k0 + kk]));
            const float* ek = e + k0 * M;
            int64_t j = j0;
            for (; j + 16 <= j1; j += 16) {
                forward_tile<4, 2>(ek, M, kn, hb, 0, z, j);
                forward_tile<4, 2>(ek, M, kn, hb, 4, z, j);
            }
            if (j < j1) forward_tile<8, 1>(ek, M, kn, hb, 0, z, j); // the last 8 columns when M is not a multiple of 16
        }
    }
    return Z;
}

// One row k of E for the A batch rows where unit k is active (gp: their rows of G, hk: -c H[i, k]): the products with
// the old row, then the update. Over those rows only, because elsewhere the update term is zero and the backward
// product is masked out by the ReLU; the operations that remain are those over all eight rows, in the same order (a
// skipped term adds an exact zero). The update's terms are summed first and added to the row once, as torch's
// baddbmm_ does. Added one by one, E was rounded A times, up to 3.5 units in its last place (ulp) off for an update of
// a few ulp, and a term under half an ulp was lost every time (at width 10000 the hidden layer's first update came
// out 0.3% short, and 3 epochs of NN2 ended 1.9e-3 of max |f| from float64 instead of 8.6e-5; chapter 03b).
template <int A>
static inline void active_row(float* row, const float* const* gp, const float* hk, int64_t M, float* dots) {
    __m256 dot[A], c[A];
    for (int a = 0; a < A; ++a) {
        dot[a] = _mm256_setzero_ps();
        c[a] = _mm256_set1_ps(hk[a]);
    }
    if (A <= 6) { // registers enough for one pass over the row
        for (int64_t j = 0; j < M; j += 8) {
            const __m256 w = _mm256_loadu_ps(row + j);
            __m256 u = _mm256_setzero_ps(); // the update, summed over the active rows
            for (int a = 0; a < A; ++a) {
                const __m256 ga = _mm256_loadu_ps(gp[a] + j);
                dot[a] = _mm256_fmadd_ps(ga, w, dot[a]);
                u = _mm256_fmadd_ps(c[a], ga, u);
            }
            _mm256_storeu_ps(row + j, _mm256_add_ps(w, u)); // one rounding of E
        }
    } else {
        for (int64_t j = 0; j < M; j += 8) {
            const __m256 w = _mm256_loadu_ps(row + j);
            for (int a = 0; a < A; ++a) dot[a] = _mm256_fmadd_ps(_mm256_loadu_ps(gp[a] + j), w, dot[a]);
        }
        for (int64_t j = 0; j < M; j += 8) {
            __m256 u = _mm256_setzero_ps();
            for (int a = 0; a < A; ++a) u = _mm256_fmadd_ps(c[a], _mm256_loadu_ps(gp[a] + j), u);
            _mm256_storeu_ps(row + j, _mm256_add_ps(_mm256_loadu_ps(row + j), u));
        }
    }
    for (int a = 0; a < A; ++a) dots[a] = hsum(dot[a]);
}

// backward and update fused, row by row (rows split between threads); P is 0 where H is 0 (the ReLU masks it there)
torch::Tensor hidden_backward_update(torch::Tensor H, torch::Tensor G, torch::Tensor E, double c_) {
    const int64_t N = E.size(0), M = E.size(1);
    TORCH_CHECK(M % 8 == 0 && H.size(0) == 8 && H.size(1) == N && G.size(0) == 8 && G.size(1) == M,
                "hidden_backward_update: shapes");
    const float *h = H.data_ptr<float>(), *g = G.data_ptr<float>();
    float* e = E.data_ptr<float>();
    const float c = (float)c_;
    auto P = torch::zeros({8, N}, H.options());
    float* p = P.data_ptr<float>();
    const int nth = std::max(1, std::min(omp_get_max_threads(), (int)(N / 256)));
#pragma omp parallel for num_threads(nth) schedule(static)
    for (int64_t k = 0; k < N; ++k) {
        const float* gp[8];
        float hk[8], dots[8];
        int act[8], na = 0;
        for (int i = 0; i < 8; ++i)
            if (h[i * N + k] > 0.0f) {
                act[na] = i;
                gp[na] = g + i * M;
                hk[na] = -c * h[i * N + k];
                ++na;
            }
        float* row = e + k * M;
        switch (na) {
        case 0:
            continue;
        case 1:
            active_row<1>(row, gp, hk, M, dots);
            break;
        case 2:
            active_row<2>(row, gp, hk, M, dots);
            break;
        case 3:
            active_row<3>(row, gp, hk, M, dots);
            break;
        case 4:
            active_row<4>(row, gp, hk, M, dots);
            break;
        case 5:
            active_row<5>(row, gp, hk, M, dots);
            break;
        case 6:
            active_row<6>(row, gp, hk, M, dots);
            break;
        case 7:
            active_row<7>(row, gp, hk, M, dots);
            break;
        default:
            active_row<8>(row, gp, hk, M, dots);
            break;
        }
        for (int a = 0; a < na; ++a) p[act[a] * N + k] = dots[a];
    }
    return P;
}
