// The layer-wise kernel recursion of chapter 00 (section 5), fused: one row of the kernel matrices at a time, every
// intermediate a row buffer that stays in the L1/L2 cache, instead of some 40 numpy passes over whole blocks.
// The same operations in the same order as the numpy code (no FMA contraction: -ffp-contract=off), so the results
// differ from it only where the arc-cosine and exp do (glibc's vector functions against numpy's, a few ulps).
// Built with -O3 -mavx2 -fno-math-errno -fno-trapping-math -ffp-contract=off -fopenmp, linked with libmvec (no FP
// exception flags are read: -fno-trapping-math lets the selects around divisions vectorise, changing no result).
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;
static const double INV_TWO_PI = 1.0 / (2.0 * 3.14159265358979323846);
static const double SNAP = 1.0 + 8.0 * 2.220446049250313e-16;  // numpy: cos *= 1 + 8 eps (the 'exact' convention)

// glibc's vector acos and exp (libmvec, AVX2, glibc 2.35 and later): 4 doubles at a time, about 5x the speed of
// the scalar functions, within 4 ulps (glibc's manual); the last entries of a row padded to 4
__m256d _ZGVdN4v_acos(__m256d x);
__m256d _ZGVdN4v_exp(__m256d x);

static void acos_row(const double *c, double *out, long m) {
    long j = 0;
    for (; j + 4 <= m; j += 4)
        _mm256_storeu_pd(out + j, _ZGVdN4v_acos(_mm256_loadu_pd(c + j)));
    if (j < m) {  // the last few through the vector function too: every entry rounds alike, wherever it sits
        double pad[4] = {1.0, 1.0, 1.0, 1.0}, res[4];
        memcpy(pad, c + j, sizeof(double) * (m - j));
        _mm256_storeu_pd(res, _ZGVdN4v_acos(_mm256_loadu_pd(pad)));
        memcpy(out + j, res, sizeof(double) * (m - j));
    }
}

static void exp_row(const double *x, double *out, long m) {
    long j = 0;
    for (; j + 4 <= m; j += 4)
        _mm256_storeu_pd(out + j, _ZGVdN4v_exp(_mm256_loadu_pd(x + j)));
    if (j < m) {
        double pad[4] = {0.0, 0.0, 0.0, 0.0}, res[4];
        memcpy(pad, x + j, sizeof(double) * (m - j));
        _mm256_storeu_pd(res, _ZGVdN4v_exp(_mm256_loadu_pd(pad)));
        memcpy(out + j, res, sizeof(double) * (m - j));
    }
}

// J and Jd of one row (Cov S, variances kx of the row and ky of the columns), as relu_expectations
static void relu_row(const double *S, double kx, const double *ky, const double *sky, long m, int paper, double *H,
                     double *Hd, double *cos_buf) {
    if (!paper) {
        double sx = sqrt(kx);
        for (long j = 0; j < m; j++) {
            double scale = sx * sky[j];
            double q = S[j] / scale;  // computed unconditionally, then selected: the loop vectorizes
            double c = scale > 0 ? q : 0.0;
            c *= SNAP;
            c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
            cos_buf[j] = c;
        }
        acos_row(cos_buf, Hd, m);
        for (long j = 0; j < m; j++) {
            double scale = sx * sky[j];
            double c = cos_buf[j];
            double pmd = PI - Hd[j];
            double s = sqrt(1.0 - c * c);
            double J = pmd * c;
            J += s;
            J *= scale;
            J *= INV_TWO_PI;
            H[j] = J;
            Hd[j] = scale > 0 ? pmd * INV_TWO_PI : 0.0;
        }
    } else {
        for (long j = 0; j < m; j++) {
            double prod = kx * ky[j];
            double q = S[j] / prod;
            double c = prod > 0 ? q : 0.0;
            H[j] = c;  // the raw cosine, kept for the second pass (which overwrites it with J)
            cos_buf[j] = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
        }
        acos_row(cos_buf, Hd, m);
        for (long j = 0; j < m; j++) {
            double prod = kx * ky[j];
            double scale = sqrt(prod);
            double c = H[j];
            int inside = fabs(c) <= 1.0;
            double ci = cos_buf[j];
            double pmd = inside ? PI - Hd[j] : PI;
            double r = 1.0 - ci * ci;
            double s = inside ? sqrt(r > 0.0 ? r : 0.0) : 0.0;
            H[j] = scale / (2.0 * PI) * (s + pmd * c);
            Hd[j] = prod > 0 ? pmd / (2.0 * PI) : 0.0;
        }
    }
}

// The inner products of one row x (dim) with the columns of Yt (dim, m), summed in the order k = 0..dim-1 (so that x.y
// and y.x round alike: a symmetric input gives an exactly symmetric result)
static void dot_row(const double *x, const double *Yt, long m, int dim, double *row) {
    for (long j = 0; j < m; j++)
        row[j] = 0.0;
    for (int k = 0; k < dim; k++) {
        double xk = x[k];
        const double *y = Yt + (long)k * m;
        for (long j = 0; j < m; j++) {
            double p = xk * y[j];
            row[j] += p;
        }
    }
}

// One chain's covariance recursion and the kernels that ride on it, for rows [r0, r1).
//   coef: beta0, alpha0, then (beta_l, alpha_l) for l = 1..L
//   kx: (L, n) row variances at each layer's input; ky: (L, m) column variances (both from the Python side)
//   req_kind[q]: 0 a covariance (GP) of depth req_depth[q], 1 an NTK with req_coef[q] = tb0, tw0, (tb, tw, rho) x L
//   out[q]: row-major output with leading dimension ld (its row i at out[q] + i * ld)
//   X (n, dim) rows and Yt (dim, m) columns; diag (or NULL): the values to put at (i, i + diag_offset), the squared
//   norms as numpy computes them
void ntk_chain(long r0, long r1, long n, long m, int dim, const double *X, const double *Yt, const double *diag,
               long diag_offset, int L, const double *coef, const double *kx, const double *ky, int paper, int n_req,
               const int *req_kind, const int *req_depth, const double *req_coef, double **out, long ld,
               int n_threads) {
    int coef_stride = 2 + 3 * L;
    double *sky = malloc(sizeof(double) * L * m);  // sqrt of the column variances, once (numpy: np.sqrt(ky))
    for (long j = 0; j < L * m; j++)
        sky[j] = sqrt(ky[j]);
#pragma omp parallel num_threads(n_threads)
    {
        double *S = malloc(sizeof(double) * m), *H = malloc(sizeof(double) * m), *Hd = malloc(sizeof(double) * m);
        double *cb = malloc(sizeof(double) * m), *d = malloc(sizeof(double) * m);
#pragma omp for schedule(static)
        for (long i = r0; i < r1; i++) {
            dot_row(X + i * dim, Yt, m, dim, d);  // this row's inner products, in a row buffer (no n x m array)
            if (diag && i + diag_offset >= 0 && i + diag_offset < m)
                d[i + diag_offset] = diag[i];
            for (long j = 0; j < m; j++)
                S[j] = coef[0] + coef[1] * d[j];
            for (int q = 0; q < n_req; q++) {
                if (req_kind[q] != 1)
                    continue;
                double *t = out[q] + i * ld, tb = req_coef[q * coef_stride], tw = req_coef[q * coef_stride + 1];
                for (long j = 0; j < m; j++) {
                    double v = d[j] * tw;
                    t[j] = v + tb;
                }
            }
            for (int l = 1; l <= L; l++) {
                relu_row(S, kx[(l - 1) * n + i], ky + (l - 1) * m, sky + (l - 1) * m, m, paper, H, Hd, cb);
                for (int q = 0; q < n_req; q++) {
                    if (req_kind[q] != 1 || req_depth[q] < l)
                        continue;
                    const double *rc = req_coef + q * coef_stride + 2 + 3 * (l - 1);
                    double tb = rc[0], tw = rc[1], rho = rc[2];
                    double *t = out[q] + i * ld;
                    for (long j = 0; j < m; j++) {
                        double v = t[j] * Hd[j];
                        if (rho != 1.0)
                            v *= rho;
                        v += tw != 1.0 ? tw * H[j] : H[j];
                        t[j] = v + tb;
                    }
                }
                double beta = coef[2 * l], alpha = coef[2 * l + 1];
                for (long j = 0; j < m; j++) {
                    double v = H[j] * alpha;
                    S[j] = v + beta;
                }
                for (int q = 0; q < n_req; q++)
                    if (req_kind[q] == 0 && req_depth[q] == l)
                        memcpy(out[q] + i * ld, S, sizeof(double) * m);
            }
        }
        free(S);
        free(H);
        free(Hd);
        free(cb);
        free(d);
    }
    free(sky);
}

// The Laplacian kernel a exp(-||x - y|| / b) of rows [r0, r1), distances summed over k = 0..d-1 as scipy's cdist
void ntk_laplace(long r0, long r1, long m, int d, const double *X, const double *Yt, double a, double b, double *out,
                 long ld, int n_threads) {
#pragma omp parallel num_threads(n_threads)
    {
        double *acc = malloc(sizeof(double) * m);
#pragma omp for schedule(static)
        for (long i = r0; i < r1; i++) {
            const double *x = X + i * d;
            for (long j = 0; j < m; j++)
                acc[j] = 0.0;
            for (int k = 0; k < d; k++) {
                double xk = x[k];
                const double *y = Yt + (long)k * m;
                for (long j = 0; j < m; j++) {
                    double diff = xk - y[j];
                    double sq = diff * diff;
                    acc[j] += sq;
                }
            }
            for (long j = 0; j < m; j++) {
                double r = sqrt(acc[j]);
                acc[j] = r * (-1.0 / b);
            }
            double *row = out + i * ld;
            exp_row(acc, row, m);
            for (long j = 0; j < m; j++)
                row[j] *= a;
        }
        free(acc);
    }
}
