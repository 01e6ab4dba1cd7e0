// racewin sweep: run every point of a sweep file into a directory, resumably (racewin merge, which
// joins the directories of shards: merge_cmd.cpp).
//
// DIR/sweep.json names the sweep (fingerprint of the sweep and scenario files, points, parameter
// names, shard); DIR/points/NNNNNN.json holds each finished point, written whole or not at all;
// DIR/sweep.csv, the tidy table, is written once every point of the shard is done. Started again
// on the same DIR, a sweep redoes only the points without a valid file (fingerprint and checksum).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/data_dir.hpp"
#include "cli/sweep_dir.hpp"
#include "output/output.hpp"
#include "sweep/sweep_run.hpp"

namespace racewin::cli {
namespace {

namespace fs = std::filesystem;

class SweepCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("sweep", "run every point of a sweep file (configs/sweeps/) into a directory, resumably");
    c->add_option("file", file_, "sweep YAML file (a shipped one by name: sweeps/x86_ipi.yaml)")->required()->transform(shipped_file());
    c->add_option("--out", out_, "output directory (sweep.json, points/, sweep.csv)")->required();
    c->add_option("--jobs", jobs_, "points run at once (default: the number of cores)")->check(CLI::Range(1u, 1024u));
    c->add_option("--shard", shard_, "run only shard K of N (K/N, 1-based): the points whose index is K-1 modulo N");
    c->add_option("--point", points_, "run only these points (repeatable; for a scheduler's tasks: no table, no cleanup)");
    c->add_flag("--list", list_, "print the indexes of the points not yet done, one a line, and run nothing");
    c->add_flag("--force", force_, "start over in a directory that holds another sweep (its points are deleted)");
    c->add_flag("-q,--quiet", quiet_, "no progress display");
    return c;
  }

  int exec(const std::string&) override {
    try {
      return run();
    } catch (const OutputError& e) {  // a full disk, a read-only or missing --out
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    }
  }

 private:
  int run() {
    size_t k = 1, n = 1;
    if (!shard_.empty()) {
      unsigned a = 0, b = 0;
      char slash = 0, extra = 0;
      std::istringstream in(shard_);
      if (!(in >> a >> slash >> b) || slash != '/' || in >> extra || a < 1 || b < 1 || a > b)
        return usage("--shard " + shard_ + ": expected K/N with 1 <= K <= N, e.g. 2/8");
      k = a, n = b;
    }
    Sweep sw;
    try {
      sw = load_sweep(file_, points_.empty() && !list_);
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    }
    const fs::path dir(out_);
    const std::string fp = sweep_fingerprint(sw), shard = fmt::format("{}/{}", k, n);
    nlohmann::json head = header(sw, fp, shard);
    if (std::string e = foreign_entry(dir); !e.empty() && !force_) {
      std::cerr << fmt::format("racewin: {} is not a sweep's directory (it holds {}): give another --out, or --force "
                               "to write the sweep into it anyway\n", out_, e);
      return 1;
    }
    if (auto old = read_object(dir / "sweep.json"); old && *old != head) {
      if (!force_) {
        std::cerr << fmt::format("racewin: {} holds sweep '{}' (fingerprint {}, {} points, shard {}), not this one ({}, {}, {}, {}): "
                                 "the sweep file or its scenario changed; give --force to delete its points and start over\n",
                                 out_, field(*old, "sweep"), field(*old, "fingerprint"), field(*old, "points"),
                                 field(*old, "shard"), sw.name, fp, sw.points.size(), shard);
        return 1;
      }
      fs::remove_all(dir / "points");
      fs::remove(dir / "sweep.csv");
      fs::remove(dir / "sensitivity.csv");
      fs::remove(dir / "uncertainty.csv");
    }
    ensure_writable_dir(dir);
    write_atomic(dir / "sweep.json", head.dump(2) + "\n");
    if (fs::exists(dir / "points") && points_.empty() && !list_)  // a point killed while written leaves a .tmp
      for (const auto& f : fs::directory_iterator(dir / "points"))
        if (f.path().extension() == ".tmp") fs::remove(f.path());
    std::vector<size_t> mine, todo;
    for (size_t i = k - 1; i < sw.points.size(); i += n) mine.push_back(i);
    for (size_t i : points_)
      if (i >= sw.points.size()) return usage(fmt::format("--point {}: the sweep has points 0 to {}", i, sw.points.size() - 1));
    if (!points_.empty()) mine = points_;
    for (size_t i : mine) {
      PointFile f = read_point(dir, i, fp);
      if (!f.problem.empty())
        std::cerr << fmt::format("racewin: {}: {}; the point is run again\n", point_path(dir, i).string(), f.problem);
      if (!f.doc) todo.push_back(i);
    }
    if (list_) {
      for (size_t i : todo) std::cout << i << "\n";
      return 0;
    }
    install_stop_handler();
    unsigned jobs = jobs_ ? jobs_ : std::max(1u, std::thread::hardware_concurrency());
    bool tty = isatty(STDERR_FILENO) && !quiet_;
    std::mutex mu;
    size_t next = 0, finished = mine.size() - todo.size();
    std::string error;
    auto t0 = std::chrono::steady_clock::now();
    auto worker = [&] {
      for (;;) {
        size_t i;
        {
          std::lock_guard<std::mutex> lk(mu);
          if (next >= todo.size() || g_stop || !error.empty()) return;
          i = todo[next++];
        }
        RunControl ctl;
        ctl.stop = &g_stop;
        nlohmann::json j;
        try {
          j = run_sweep_point(sw, sw.points[i], ctl);
          if (ctl.interrupted) return;
          write_atomic(point_path(dir, i), j.dump(1) + "\n");
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lk(mu);
          error = fmt::format("point {}: {}", i, e.what());
          return;
        }
        std::lock_guard<std::mutex> lk(mu);
        ++finished;
        if (tty) {  // points done, time left, and the latest point's first estimate
          double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          size_t run = finished - (mine.size() - todo.size());
          std::string latest;
          if (!j["cases"].empty() && !j["cases"][0]["hazards"].empty()) {
            const auto& h = j["cases"][0]["hazards"][0];
            latest = fmt::format("; point {} {} {}: {:.3g}", i, j["cases"][0]["case"].get<std::string>(),
                                 h["hazard"].get<std::string>(), h["p"].get<double>());
          }
          std::cerr << fmt::format("\r\x1b[K{}: {}/{} points, about {:.0f} s left{}", sw.name, finished, mine.size(),
                                   run ? s / double(run) * double(mine.size() - finished) : 0.0, latest);
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned j = 0; j < std::min<size_t>(jobs, todo.size()); ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    if (tty) std::cerr << "\n";
    if (!error.empty()) {
      std::cerr << "racewin: " << error << "\n";
      return 1;
    }
    if (g_stop) {
      std::cerr << fmt::format("racewin: interrupted with {}/{} points done; the same command resumes\n", finished, mine.size());
      return 130;
    }
    if (!points_.empty()) return 0;  // a scheduler's task: the table comes from the final plain run
    std::vector<nlohmann::json> pts;
    for (size_t i : mine) {
      PointFile f = read_point(dir, i, fp);
      if (!f.doc) {  // removed or changed while the sweep ran
        std::cerr << fmt::format("racewin: {}: {}; run the sweep again\n", point_path(dir, i).string(),
                                 f.problem.empty() ? "gone, or another sweep's" : f.problem);
        return 1;
      }
      pts.push_back(std::move(*f.doc));
    }
    if (n == 1) {
      write_table(dir, head, pts);
    } else {  // a shard's table; the ranking needs every point (racewin merge)
      nlohmann::json part = head;
      part.erase("sensitivity");
      part.erase("uncertainty");
      write_table(dir, part, pts);
    }
    std::cout << fmt::format("{}: {} points ({} run now), shard {}; wrote {}\n", sw.name, mine.size(), todo.size(), shard,
                             (dir / "sweep.csv").string());
    return 0;
  }

  int usage(const std::string& msg) {
    std::cerr << "racewin: " << msg << "\n";
    return 2;
  }
  std::string file_, out_, shard_;
  std::vector<size_t> points_;
  bool list_ = false;
  unsigned jobs_ = 0;
  bool force_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<Command> make_sweep_command() { return std::make_unique<SweepCommand>(); }

}  // namespace racewin::cli
