// racewin compare --rare-event force: each side of each case one forced run, on `jobs` threads.
#include "cli/compare_forced.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "base/version.hpp"
#include "cli/common.hpp"
#include "model/machine.hpp"
#include "output/output.hpp"
#include "run/compare_forced.hpp"

namespace racewin::cli {

int run_forced_compare(const ForcedCompareRequest& q) {
  const size_t n = q.pairs.size();
  std::vector<ForcedCompareCase> out(n);
  std::vector<uint8_t> done(2 * n, 0);
  install_stop_handler();
  const bool tty = isatty(STDERR_FILENO) && !q.quiet;
  std::mutex mu;
  std::string model_error;
  size_t next = 0, finished = 0;
  auto worker = [&]() {
    while (true) {
      size_t t;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (next >= 2 * n || g_stop || !model_error.empty()) return;
        t = next++;
      }
      const auto& [b, a] = q.pairs[t / 2];
      CaseConfig c = t % 2 ? a : b;
      if (t % 2) c.seed = forced_after_seed(b.seed);
      RunControl ctl;
      ctl.stop = &g_stop;
      try {
        CaseResult r = run_forced_side(c, q.hazards, q.rule, q.force, ctl);
        std::lock_guard<std::mutex> lk(mu);
        done[t] = !r.interrupted;
        (t % 2 ? out[t / 2].after : out[t / 2].before) = std::move(r);
        if (tty) std::cerr << fmt::format("\rcompare: {} of {} forced runs done   ", ++finished, 2 * n) << std::flush;
      } catch (const ModelError& e) {
        std::lock_guard<std::mutex> lk(mu);
        model_error = c.name + ": " + e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < std::min<size_t>(q.jobs, 2 * n); ++j) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
  if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
  if (!model_error.empty()) {
    std::cerr << "racewin: " << model_error << "\n";
    return 1;
  }
  bool complete = true, failed = false;
  for (size_t i = 0; i < n; ++i) {
    ForcedCompareCase& c = out[i];
    c.name = q.pairs[i].first.name;
    if (!done[2 * i] || !done[2 * i + 1]) {  // an interrupted side is no estimate to compare
      complete = false;
      continue;
    }
    failed = failed || !c.before.failure.empty() || !c.after.failure.empty();
    for (const auto& h : q.hazards)
      c.rows.emplace_back(h, compare_forced(forced_side(q.pairs[i].first, c.before, h), forced_side(q.pairs[i].second, c.after, h)));
  }

  std::cout << fmt::format("{}: before {}, after {}", q.scenario, q.before_file, q.after_file);
  for (const auto& s : q.sets_after) std::cout << " --set-after " << s;
  std::cout << "\n";
  print_forced_compare(std::cout, out);
  if (!q.out_dir.empty()) {
    nlohmann::json j = {{"program", "racewin"}, {"version", kVersion}, {"before_file", q.before_file},
                        {"after_file", q.after_file}, {"set", q.sets}, {"set_after", q.sets_after},
                        {"hazards", q.hazards}, {"rare_event", q.method}, {"rule", q.rule.describe()},
                        {"independent", true}, {"complete", complete}, {"cases", forced_compare_cases_json(out)}};
    std::string csv = forced_comparison_csv_header();
    for (const auto& c : out)
      for (const auto& [h, x] : c.rows) csv += forced_comparison_csv_row(c.name, h, x);
    try {
      write_atomic(std::filesystem::path(q.out_dir) / "compare.json", j.dump(2) + "\n");
      write_atomic(std::filesystem::path(q.out_dir) / "compare.csv", csv);
    } catch (const std::exception& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    }
    std::cout << fmt::format("\nwrote {}/compare.json and {}/compare.csv{}\n", q.out_dir, q.out_dir,
                             complete ? "" : " (incomplete: interrupted)");
  }
  if (!complete) return 130;
  return failed ? 3 : 0;
}

}  // namespace racewin::cli
