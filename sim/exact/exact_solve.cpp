// Solving the enumerated chain with Eigen.
//  - Long run: the stationary distribution pi of the chain's closed class (pi Q = 0, one state's
//    weight fixed, then normalised). Rates of counted things are fluxes: sum over states of pi(s)
//    times the rate of each transition times what it counts. P(an iteration is hit) is the flux of
//    hit iterations over the flux of iterations: what a long simulation estimates.
//  - From the start: the mean time to the first event of a hazard and P(hit within the first K
//    iterations) are absorbing-chain systems (first-step equations).
// Systems up to kGth unknowns are solved by sparse GTH elimination (exact_gth.cpp), accurate to a
// few rounding errors in each component however the rates are scaled. Larger systems, or ones
// whose elimination fills in too much: sparse LU with iterative refinement, or BiCGSTAB
// (exact_linear.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>

#include "exact/exact.hpp"
#include "exact/exact_gth.hpp"
#include "exact/exact_linear.hpp"
#include "model/machine.hpp"

namespace racewin {
namespace {

using Trip = Eigen::Triplet<double>;
// Closed strongly connected classes (no transition leaves them), by Tarjan's algorithm without recursion.
std::vector<std::vector<uint32_t>> closed_classes(const Chain& c) {
  const uint32_t n = uint32_t(c.states()), none = UINT32_MAX;
  std::vector<uint32_t> index(n, none), low(n, 0), comp(n, none), stack, classes_of;
  std::vector<uint8_t> on(n, 0);
  std::vector<std::vector<uint32_t>> comps;
  uint32_t next = 0;
  std::vector<std::pair<uint32_t, uint64_t>> call;  // state, next transition to look at
  for (uint32_t root = 0; root < n; ++root) {
    if (index[root] != none) continue;
    call.push_back({root, c.row[root]});
    index[root] = low[root] = next++, stack.push_back(root), on[root] = 1;
    while (!call.empty()) {
      auto& [s, j] = call.back();
      if (j < c.row[s + 1]) {
        uint32_t t = c.trans[j++].to;
        if (index[t] == none) {
          index[t] = low[t] = next++, stack.push_back(t), on[t] = 1;
          call.push_back({t, c.row[t]});
        } else if (on[t]) {
          low[s] = std::min(low[s], index[t]);
        }
        continue;
      }
      uint32_t done = s;
      call.pop_back();
      if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[done]);
      if (low[done] != index[done]) continue;
      comps.emplace_back();
      uint32_t t;
      do {
        t = stack.back(), stack.pop_back(), on[t] = 0, comp[t] = uint32_t(comps.size() - 1);
        comps.back().push_back(t);
      } while (t != done);
    }
  }
  std::vector<std::vector<uint32_t>> closed;
  for (size_t k = 0; k < comps.size(); ++k) {
    bool leaves = false;
    for (uint32_t s : comps[k])
      for (uint64_t j = c.row[s]; j < c.row[s + 1] && !leaves; ++j) leaves = comp[c.trans[j].to] != k;
    if (!leaves) closed.push_back(std::move(comps[k]));
  }
  return closed;
}

// Stationary distribution on a closed class by GTH elimination; the solver notes get its
// componentwise backward error (the largest imbalance of a state's inflow and outflow, relative
// to their sum).
Vec gth_class(const Chain& c, const std::vector<uint32_t>& cls, ExactResult& out) {
  std::vector<int64_t> pos(c.states(), -1);
  for (size_t i = 0; i < cls.size(); ++i) pos[cls[i]] = int64_t(i);
  Rates q(cls.size());
  for (size_t i = 0; i < cls.size(); ++i)
    for (uint64_t j = c.row[cls[i]]; j < c.row[cls[i] + 1]; ++j) {
      int64_t t = pos[c.trans[j].to];
      if (t >= 0 && size_t(t) != i) q.add(i, size_t(t), c.trans[j].rate);  // a closed class: t is in it
    }
  std::vector<double> p = gth_stationary(std::move(q));
  std::vector<long double> in(cls.size(), 0.0L), outflow(cls.size(), 0.0L);
  for (size_t i = 0; i < cls.size(); ++i)
    for (uint64_t j = c.row[cls[i]]; j < c.row[cls[i] + 1]; ++j) {
      int64_t t = pos[c.trans[j].to];
      if (t < 0 || size_t(t) == i) continue;
      long double f = (long double)p[i] * c.trans[j].rate;
      outflow[i] += f, in[size_t(t)] += f;
    }
  double worst = 0;
  for (size_t i = 0; i < cls.size(); ++i)
    if (in[i] + outflow[i] > 0) worst = std::max(worst, double(std::fabs(in[i] - outflow[i]) / (in[i] + outflow[i])));
  out.residual = std::max(out.residual, worst);
  if (out.method.empty()) out.method = "GTH";
  Vec pi = Vec::Zero(Eigen::Index(c.states()));
  for (size_t i = 0; i < cls.size(); ++i) pi[cls[i]] = p[i];
  return pi;
}

// Stationary distribution on the chain's single closed class (zero elsewhere).
Vec stationary(const Chain& c, ExactResult& out) {
  auto classes = closed_classes(c);
  if (classes.size() != 1)
    throw ModelError("the chain has " + std::to_string(classes.size()) +
                     " closed classes: its long run depends on chance early on (a deadlock or a state it never leaves?)");
  const auto& cls = classes[0];
  if (cls.size() <= kGth) {
    try {
      return gth_class(c, cls, out);
    } catch (const GthFill&) {  // too much fill-in: LU or BiCGSTAB below
    }
  }
  std::vector<int64_t> pos(c.states(), -1);
  for (size_t i = 0; i < cls.size(); ++i) pos[cls[i]] = int64_t(i);
  // Unknowns: pi on the class but its first state, whose weight is fixed at 1.
  const Eigen::Index m = Eigen::Index(cls.size()) - 1;
  Vec pi = Vec::Zero(Eigen::Index(c.states()));
  pi[cls[0]] = 1;
  if (m > 0) {
    std::vector<Trip> tr;
    Vec b = Vec::Zero(m);
    for (uint32_t s : cls) {
      for (uint64_t j = c.row[s]; j < c.row[s + 1]; ++j) {
        uint32_t t = c.trans[j].to;
        if (t == s) continue;
        double r = c.trans[j].rate;
        if (pos[s] > 0) tr.emplace_back(pos[s] - 1, pos[s] - 1, -r);  // (pi Q)_s: outflow
        if (pos[t] > 0) {
          if (pos[s] > 0) tr.emplace_back(pos[t] - 1, pos[s] - 1, r);
          else b[pos[t] - 1] -= r;
        }
      }
    }
    SpMat a(m, m);
    a.setFromTriplets(tr.begin(), tr.end());
    Vec x = solve_sparse(a, b, out, "stationary distribution");
    for (Eigen::Index i = 0; i < m; ++i) pi[cls[size_t(i + 1)]] = x[i];
  }
  double total = pi.sum();
  return pi / total;
}

double flux(const Chain& c, const Vec& pi, const std::function<int64_t(const Chain::Reward&)>& what) {
  std::vector<double> per(c.rewards.size());
  for (size_t i = 0; i < per.size(); ++i) per[i] = double(what(c.rewards[i]));
  double f = 0;
  for (uint32_t s = 0; s < c.states(); ++s)
    for (uint64_t j = c.row[s]; j < c.row[s + 1]; ++j) f += pi[s] * c.trans[j].rate * per[c.trans[j].reward];
  return f;  // per ns
}

// An absorbing system in the form gth_absorbing takes, row by row: o[i] the rates to other
// unknowns, e[i] the rate of absorption, b[i] the right-hand side. Solved by GTH elimination; the
// solver notes get its componentwise backward error.
struct Absorbing {
  std::vector<std::vector<std::pair<size_t, double>>> o;
  std::vector<double> e, b;
  explicit Absorbing(size_t n) : o(n), e(n, 0.0), b(n, 0.0) {}
};
std::vector<double> solve_gth(const Absorbing& s, ExactResult& out, const char* what) {
  const size_t n = s.e.size();
  Rates o(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& [t, r] : s.o[i])
      if (t != i) o.add(i, t, r);
  std::vector<double> x = gth_absorbing(std::move(o), s.e, s.b, what);
  out.residual = std::max(out.residual, backward_error(s.o, s.e, s.b, x));
  out.method = "GTH";
  return x;
}

// From the start: the mean time (ns) to the first event of hazard h; infinity if some reachable
// state can never lead to one.
double mean_time_to_first(const Chain& c, size_t h, ExactResult& out) {
  const uint32_t n = uint32_t(c.states());
  std::vector<std::vector<uint32_t>> into(n);
  std::vector<uint8_t> reach(n, 0);
  std::vector<uint32_t> work;
  for (uint32_t s = 0; s < n; ++s)
    for (uint64_t j = c.row[s]; j < c.row[s + 1]; ++j) {
      if (c.rewards[c.trans[j].reward].events[h] > 0 && !reach[s]) reach[s] = 1, work.push_back(s);
      into[c.trans[j].to].push_back(s);
    }
  while (!work.empty()) {
    uint32_t t = work.back();
    work.pop_back();
    for (uint32_t s : into[t])
      if (!reach[s]) reach[s] = 1, work.push_back(s);
  }
  for (uint32_t s = 0; s < n; ++s)
    if (!reach[s]) return std::numeric_limits<double>::infinity();
  if (n <= kGth) {
    Absorbing sys(n);
    for (uint32_t s = 0; s < n; ++s) {
      sys.b[s] = 1;
      for (uint64_t j = c.row[s]; j < c.row[s + 1]; ++j) {
        const auto& x = c.trans[j];
        if (c.rewards[x.reward].events[h] > 0) sys.e[s] += x.rate;
        else if (x.to != s) sys.o[s].emplace_back(x.to, x.rate);
      }
    }
    try {
      return solve_gth(sys, out, "mean time to the first hazard")[0];
    } catch (const GthFill&) {  // too much fill-in: LU or BiCGSTAB below
    }
  }
  std::vector<Trip> tr;
  for (uint32_t s = 0; s < n; ++s)
    for (uint64_t j = c.row[s]; j < c.row[s + 1]; ++j) {
      const auto& x = c.trans[j];
      bool hit = c.rewards[x.reward].events[h] > 0;
      if (!hit && x.to == s) continue;
      tr.emplace_back(s, s, x.rate);
      if (!hit) tr.emplace_back(s, x.to, -x.rate);
    }
  SpMat a(n, n);
  a.setFromTriplets(tr.begin(), tr.end());
  return solve_sparse(a, Vec::Ones(n), out, "mean time to the first hazard")[0];
}

// From the start: P(hazard h within the counted thread's first k iterations). Unknowns: (state,
// iterations finished so far < k).
double p_within(const Chain& c, size_t h, int k, ExactResult& out) {
  const int64_t n = int64_t(c.states());
  if (size_t(n) * size_t(k) <= kGth) {
    Absorbing sys(size_t(n) * size_t(k));
    for (int it = 0; it < k; ++it)
      for (int64_t s = 0; s < n; ++s) {
        size_t row = size_t(it * n + s);
        for (uint64_t j = c.row[size_t(s)]; j < c.row[size_t(s) + 1]; ++j) {
          const auto& x = c.trans[j];
          const Chain::Reward& r = c.rewards[x.reward];
          int64_t it2 = it + r.iterations;
          bool hit = r.events[h] > 0 && (r.iterations == 0 || r.iterations_hit[h] > 0 || it2 < k);
          if (hit) sys.e[row] += x.rate, sys.b[row] += x.rate;  // absorbed, hit
          else if (it2 >= k) sys.e[row] += x.rate;            // absorbed, K iterations without a hit
          else if (size_t(it2 * n + x.to) != row) sys.o[row].emplace_back(size_t(it2 * n + x.to), x.rate);
        }
      }
    try {
      return solve_gth(sys, out, "P(hit within K iterations)")[0];
    } catch (const GthFill&) {
    }
  }
  std::vector<Trip> tr;
  Vec b = Vec::Zero(n * k);
  for (int it = 0; it < k; ++it)
    for (int64_t s = 0; s < n; ++s) {
      int64_t row = it * n + s;
      for (uint64_t j = c.row[size_t(s)]; j < c.row[size_t(s) + 1]; ++j) {
        const auto& x = c.trans[j];
        const Chain::Reward& r = c.rewards[x.reward];
        int64_t it2 = it + r.iterations;
        // A hit in the iteration under way, or in one that ended here, or in the next one if
        // that is still within k.
        bool hit = r.events[h] > 0 && (r.iterations == 0 || r.iterations_hit[h] > 0 || it2 < k);
        if (!hit && (it2 == it && x.to == uint32_t(s))) continue;
        tr.emplace_back(row, row, x.rate);
        if (hit) b[row] += x.rate;
        else if (it2 < k) tr.emplace_back(row, it2 * n + x.to, -x.rate);
      }
    }
  SpMat a(n * k, n * k);
  a.setFromTriplets(tr.begin(), tr.end());
  return solve_sparse(a, b, out, "P(hit within K iterations)")[0];
}

}  // namespace

// The systems are independent: each runs on its own thread (the machine has few cores and the
// solves dominate a large chain's time), and results are put together in a fixed order.
ExactResult solve_chain(const Chain& c, int k) {
  ExactResult out;
  out.states = c.states();
  out.transitions = c.trans.size();
  out.k = k;
  const double inf = std::numeric_limits<double>::infinity();
  struct FromStart {
    std::future<double> mttf, within;
    ExactResult a, b;  // each task's solver notes
  };
  std::vector<FromStart> from_start(c.hazards.size());
  for (size_t h = 0; h < c.hazards.size(); ++h) {
    bool possible = false;
    for (const auto& r : c.rewards) possible = possible || r.events[h] > 0;
    if (!possible) continue;
    FromStart& f = from_start[h];
    f.mttf = std::async(std::launch::async, [&c, &f, h] { return mean_time_to_first(c, h, f.a) * 1e-9; });
    f.within = std::async(std::launch::async, [&c, &f, h, k] { return p_within(c, h, k, f.b); });
  }
  Vec pi = stationary(c, out);
  double iters = flux(c, pi, [](const Chain::Reward& r) { return r.iterations; });
  out.iterations_per_s = iters * 1e9;
  for (size_t h = 0; h < c.hazards.size(); ++h) {
    ExactHazard e;
    e.name = c.hazards[h];
    double ev = flux(c, pi, [h](const Chain::Reward& r) { return r.events[h]; });
    double hit = flux(c, pi, [h](const Chain::Reward& r) { return r.iterations_hit[h]; });
    e.p_iteration = iters > 0 ? hit / iters : 0;
    e.events_per_s = ev * 1e9;
    e.time_per_hit_iteration_s = hit > 0 ? 1e-9 / hit : inf;
    FromStart& f = from_start[h];
    // A from-the-start system that does not solve costs that figure only (NaN, and a note): the
    // long-run ones above are already there.
    auto get = [&](std::future<double>& fut, double none, const char* what) {
      if (!fut.valid()) return none;
      try {
        return fut.get();
      } catch (const ModelError& x) {
        out.notes.push_back(fmt::format("{}: {} not computed: {}", e.name, what, x.what()));
        return std::numeric_limits<double>::quiet_NaN();
      }
    };
    e.mean_time_to_first_s = get(f.mttf, inf, "the mean time to the first hazard");
    e.p_within_k = get(f.within, 0, "P(hit within the first K iterations)");
    for (const ExactResult* x : {&f.a, &f.b}) {
      out.residual = std::max(out.residual, x->residual);
      if (!x->method.empty() && out.method.find(x->method) == std::string::npos) out.method += ", " + x->method;
    }
    out.hazards.push_back(e);
  }
  for (size_t w = 0; w < c.windows.size(); ++w) {
    double closed = flux(c, pi, [w](const Chain::Reward& r) { return r.closed[w]; });
    double hit = flux(c, pi, [w](const Chain::Reward& r) { return r.hit[w]; });
    out.windows.push_back({c.windows[w], closed > 0 ? hit / closed : 0, closed * 1e9});
  }
  return out;
}

}  // namespace racewin
