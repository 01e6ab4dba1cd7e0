// A sparse linear system of the exact driver solved with Eigen: sparse LU with iterative
// refinement (in long double) up to kDirect unknowns; beyond, BiCGSTAB with a diagonal
// preconditioner, IDR(8) if that breaks down, and LU again if neither converges and the system is
// not too large. The residual reached goes into the result's notes.
#include "exact/exact_linear.hpp"

#include <Eigen/IterativeLinearSolvers>
#include <unsupported/Eigen/IterativeSolvers>
#include <Eigen/SparseLU>
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "model/machine.hpp"

namespace racewin {
namespace {

// Sparse LU up to kDirect unknowns (exact to rounding); beyond, BiCGSTAB with a diagonal
// preconditioner, and LU again if that does not converge and the system is not too large.
constexpr Eigen::Index kDirect = 5000, kDirectFallback = 100000;
// The largest relative residual accepted from an iterative solve; the output prints the one reached
// (LU gives ~1e-15, which the closed-form tests rely on).
constexpr double kAccept = 1e-6;

double residual(const SpMat& a, const Vec& x, const Vec& b) { return (a * x - b).norm() / std::max(b.norm(), 1e-300); }

// b - a x, each component accumulated in long double.
Vec residual_ld(const SpMat& a, const Vec& x, const Vec& b) {
  std::vector<long double> acc(size_t(b.size()));
  for (Eigen::Index i = 0; i < b.size(); ++i) acc[size_t(i)] = b[i];
  for (Eigen::Index col = 0; col < a.outerSize(); ++col)
    for (SpMat::InnerIterator it(a, col); it; ++it) acc[size_t(it.row())] -= (long double)it.value() * x[col];
  Vec r(b.size());
  for (Eigen::Index i = 0; i < b.size(); ++i) r[i] = double(acc[size_t(i)]);
  return r;
}

// An iterative solve, restarted once on its residual if that is still above 1e-9.
template <class Solver>
double iterate(Solver& it, const SpMat& a, const Vec& b, Vec& x, const char* name, ExactResult& out) {
  it.compute(a);
  x = it.solve(b);
  double r = residual(a, x, b);
  if (std::isfinite(r) && r > 1e-9) {
    x += it.solve(b - a * x);
    r = residual(a, x, b);
  }
  out.method = name;
  return r;
}

}  // namespace

Vec solve_sparse(const SpMat& a, const Vec& b, ExactResult& out, const char* what) {
  Vec x;
  double r = std::numeric_limits<double>::infinity();
  if (a.rows() > kDirect) {  // the fill-in of an LU grows fast with the chain's dimensions
    Eigen::BiCGSTAB<SpMat, Eigen::DiagonalPreconditioner<double>> bicg;
    bicg.setTolerance(1e-11);
    bicg.setMaxIterations(5000);
    r = iterate(bicg, a, b, x, "BiCGSTAB", out);
    if (!std::isfinite(r)) {  // BiCGSTAB broke down: IDR(s) is slower but does not
      Eigen::IDRS<SpMat, Eigen::DiagonalPreconditioner<double>> idr;
      idr.setS(8);
      idr.setTolerance(1e-12);
      idr.setMaxIterations(20000);
      r = iterate(idr, a, b, x, "IDR(8)", out);
    }
  }
  if (!(r <= kAccept) && a.rows() <= kDirectFallback) {
    Eigen::SparseLU<SpMat, Eigen::COLAMDOrdering<int>> lu;
    lu.compute(a);
    if (lu.info() != Eigen::Success) throw ModelError("the chain's linear system is singular: " + lu.lastErrorMessage());
    x = lu.solve(b);
    r = residual(a, x, b);
    // Iterative refinement on a residual accumulated in long double: a badly scaled system (rates
    // of 1e-1 and 1e-16 per ns) leaves LU's first answer with a residual above kAccept.
    for (int step = 0; step < 3 && r > 1e-14; ++step) {
      Vec x2 = x + lu.solve(residual_ld(a, x, b));
      double r2 = residual(a, x2, b);
      if (!(r2 < r)) break;
      x = std::move(x2), r = r2;
    }
    out.method = "sparse LU";
  }
  out.residual = std::max(out.residual, r);
  if (!(r <= kAccept))
    throw ModelError(fmt::format("the chain's {} system of {} unknowns did not solve (relative residual {:.2g})", what, a.rows(), r));
  return x;
}

}  // namespace racewin
