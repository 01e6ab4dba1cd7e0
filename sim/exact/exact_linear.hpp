#pragma once
// The exact driver's linear systems beyond GTH's reach (exact_linear.cpp).
#include <Eigen/Sparse>

#include "exact/exact.hpp"

namespace racewin {

using SpMat = Eigen::SparseMatrix<double>;
using Vec = Eigen::VectorXd;

// Solves a x = b; records the method and the relative residual in `out`; throws ModelError naming
// `what` when the residual stays above 1e-6.
Vec solve_sparse(const SpMat& a, const Vec& b, ExactResult& out, const char* what);

}  // namespace racewin
