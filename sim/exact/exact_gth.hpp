#pragma once
// GTH elimination (exact_gth.cpp) on sparse rate matrices: the direct solver of racewin exact for
// systems up to kGth unknowns.
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace racewin {

// GTH elimination up to this many unknowns, as long as its fill-in stays within kGthFill entries
// (then the system goes to LU or BiCGSTAB, exact_solve.cpp).
constexpr size_t kGth = 5000, kGthFill = 1'000'000;

// Too much fill-in for GTH: the caller falls back to the other solvers.
struct GthFill {};

// A sparse matrix of rates, by rows, with the rows of each column's entries (for elimination).
struct Rates {
  std::vector<std::unordered_map<uint32_t, double>> row;
  std::vector<std::vector<uint32_t>> col;
  size_t entries = 0;
  explicit Rates(size_t n) : row(n), col(n) {}
  void add(size_t i, size_t j, double v) {
    auto [it, fresh] = row[i].try_emplace(uint32_t(j), 0.0);
    it->second += v;
    if (fresh) {
      col[j].push_back(uint32_t(i));
      if (++entries > kGthFill) throw GthFill{};
    }
  }
  double at(size_t i, size_t j) const {
    auto it = row[i].find(uint32_t(j));
    return it == row[i].end() ? 0.0 : it->second;
  }
};

// Stationary distribution of an irreducible chain given by its off-diagonal rates q(i, j), by GTH
// state reduction: the states are removed from the last, the rates of the states left are those of
// the chain watched only while in them, and each removed state's weight follows from those before
// it. No subtraction anywhere.
std::vector<double> gth_stationary(Rates q);

// An absorbing-chain system: for each unknown i, (e_i + sum_t o(i, t)) x_i - sum_t o(i, t) x_t = b_i,
// with o >= 0 the rates to the other transient states (o(i, i) ignored), e >= 0 the rate of
// absorption and b >= 0. Solved by the GTH form of Gaussian elimination: eliminating x_j from row
// i adds f = o(i, j) / d_j times row j to it, and the new pivot is again its absorption rate plus
// its off-diagonal rates (the row sums stay e, updated by f e_j), never a difference. Every
// quantity stays non-negative, so each x_i is accurate to rounding. Returns x; throws if a state
// cannot be absorbed (a zero pivot).
std::vector<double> gth_absorbing(Rates o, std::vector<double> e, std::vector<double> b, const char* what);

// The componentwise backward error of x for the system above: max_i |row_i(x) - b_i| / (|row_i| |x| + b_i),
// in long double. What GTH's accuracy is measured by (a normwise residual |Ax - b| / |b| of an
// exact answer is of the order of the condition number times the rounding unit, which for a
// hazard of 1e-12 exceeds any sensible threshold).
double backward_error(const std::vector<std::vector<std::pair<size_t, double>>>& o, const std::vector<double>& e,
                      const std::vector<double>& b, const std::vector<double>& x);

}  // namespace racewin
