// racewin sweep: run every point of a sweep file into a directory, resumably; racewin merge: join
// the directories of shards into the one a single run gives.
//
// DIR/sweep.json names the sweep (fingerprint of the sweep and scenario files, points, parameter
// names, shard); DIR/points/NNNNNN.json holds each finished point, written whole or not at all;
// DIR/sweep.csv, the tidy table, is written once every point of the shard is done. Started again
// on the same DIR, a sweep redoes only the points without a file.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/data_dir.hpp"
#include "output/output.hpp"
#include "sweep/sweep_run.hpp"

namespace racewin::cli {
namespace {

namespace fs = std::filesystem;

std::optional<nlohmann::json> read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// sweep.json: what the directory holds; a sensitivity's settings too, so that `merge` can rank.
nlohmann::json header(const Sweep& sw, const std::string& fingerprint, const std::string& shard) {
  nlohmann::json h = {{"sweep", sw.name}, {"fingerprint", fingerprint}, {"points", sw.points.size()},
                      {"params", sw.param_names}, {"shard", shard}};
  if (const auto& s = sw.sensitivity)
    h["sensitivity"] = {{"case", sw.cases.at(0)}, {"hazard", s->hazard}, {"factor", s->factor}, {"parameters", s->parameters}};
  return h;
}

// The table from the point files of `indexes` (all present, and all of the sweep's), and for a
// sensitivity sweep the ranking, from sweep.json's settings.
void write_table(const fs::path& dir, const nlohmann::json& head, const std::vector<size_t>& indexes) {
  std::vector<nlohmann::json> pts;
  for (size_t i : indexes) pts.push_back(*read_json(point_path(dir, i)));
  write_atomic(dir / "sweep.csv", sweep_csv(head.at("params").get<std::vector<std::string>>(), pts));
  if (!head.contains("sensitivity")) return;
  const auto& hs = head.at("sensitivity");
  Sweep sw;
  sw.cases = {hs.at("case").get<std::string>()};
  sw.sensitivity = Sensitivity{hs.at("hazard").get<std::string>(), hs.at("factor").get<double>(),
                               hs.at("parameters").get<std::vector<std::string>>()};
  std::string csv = sensitivity_csv(sw, pts);
  write_atomic(dir / "sensitivity.csv", csv);
  std::cout << fmt::format("{}: {} per iteration against each parameter divided and multiplied by {} "
                           "(elasticity d ln P / d ln parameter, 95%):\n{}", sw.cases[0], sw.sensitivity->hazard,
                           sw.sensitivity->factor, csv);
}

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
    if (auto old = read_json(dir / "sweep.json"); old && *old != head) {
      if (!force_) {
        std::cerr << fmt::format("racewin: {} holds sweep '{}' (fingerprint {}, {} points, shard {}), not this one ({}, {}, {}, {}): "
                                 "the sweep file or its scenario changed; give --force to delete its points and start over\n",
                                 out_, old->value("sweep", "?"), old->value("fingerprint", "?"), old->value("points", 0),
                                 old->value("shard", "?"), sw.name, fp, sw.points.size(), shard);
        return 1;
      }
      fs::remove_all(dir / "points");
      fs::remove(dir / "sweep.csv");
    }
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
      auto done = read_json(point_path(dir, i));
      if (!done || done->value("fingerprint", "") != fp) todo.push_back(i);
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
    if (n == 1) {
      write_table(dir, head, mine);
    } else {  // a shard's table; the ranking needs every point (racewin merge)
      nlohmann::json part = head;
      part.erase("sensitivity");
      write_table(dir, part, mine);
    }
    std::cout << fmt::format("{}: {} points ({} run now), shard {}; wrote {}\n", sw.name, mine.size(), todo.size(), shard,
                             (dir / "sweep.csv").string());
    return 0;
  }

 private:
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

class MergeCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("merge", "join the output directories of a sweep's shards into one");
    c->add_option("shards", shards_, "the shards' output directories")->required();
    c->add_option("--out", out_, "the merged directory")->required();
    return c;
  }

  int exec(const std::string&) override {
    std::optional<nlohmann::json> first;
    std::vector<int> seen;
    for (const auto& s : shards_) {
      auto h = read_json(fs::path(s) / "sweep.json");
      if (!h) return fail(s + ": no sweep.json (not a sweep output directory)");
      nlohmann::json same = *h;
      same["shard"] = "";
      if (!first) first = same, seen.assign(size_t((*h)["points"].get<size_t>()), 0);
      if (same != *first) return fail(s + ": another sweep, or the same one changed (fingerprint " + h->value("fingerprint", "?") + ")");
      for (size_t i = 0; i < seen.size(); ++i)
        if (auto p = read_json(point_path(s, i))) {
          if (p->value("fingerprint", "") != first->value("fingerprint", "")) continue;
          if (seen[i]++) return fail(fmt::format("point {} is in two shards", i));
          write_atomic(point_path(out_, i), p->dump(1) + "\n");
        }
    }
    std::vector<size_t> all;
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i]) return fail(fmt::format("point {} is in no shard: run the missing shard first", i));
      all.push_back(i);
    }
    (*first)["shard"] = "1/1";
    write_atomic(fs::path(out_) / "sweep.json", first->dump(2) + "\n");
    write_table(out_, *first, all);
    std::cout << fmt::format("merged {} points from {} shard(s) into {}\n", all.size(), shards_.size(), out_);
    return 0;
  }

 private:
  int fail(const std::string& msg) {
    std::cerr << "racewin merge: " << msg << "\n";
    return 1;
  }
  std::vector<std::string> shards_;
  std::string out_;
};

}  // namespace

std::unique_ptr<Command> make_sweep_command() { return std::make_unique<SweepCommand>(); }
std::unique_ptr<Command> make_merge_command() { return std::make_unique<MergeCommand>(); }

}  // namespace racewin::cli
