// racewin merge: join the output directories of a sweep's shards into the one a single run gives.
// Every shard is read and checked before anything is written, and --out is written only if it is
// new or empty, or with --force: a refused merge leaves --out as it was.
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "cli/sweep_dir.hpp"
#include "output/write_file.hpp"

namespace racewin::cli {
namespace {

namespace fs = std::filesystem;

class MergeCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("merge", "join the output directories of a sweep's shards into one");
    c->add_option("shards", shards_, "the shards' output directories")->required();
    c->add_option("--out", out_, "the merged directory (new or empty, unless --force)")->required();
    c->add_flag("--force", force_, "replace the sweep.json, points/ and tables of a --out that holds files");
    return c;
  }

  int exec(const std::string&) override {
    try {
      return merge();
    } catch (const OutputError& e) {  // a full disk, a read-only or missing --out
      return fail(e.what());
    }
  }

 private:
  int merge() {
    std::optional<nlohmann::json> first;
    std::map<size_t, nlohmann::json> points;  // index -> document, from whichever shard has it
    for (const auto& s : shards_) {
      const fs::path file = fs::path(s) / "sweep.json";
      std::string problem;
      auto h = read_object(file, &problem);
      if (!h && problem.empty()) return fail(s + ": no sweep.json (not a sweep output directory)");
      if (!h || !valid_header(*h)) return fail(file.string() + ": " + (h ? "not a sweep.json racewin wrote" : problem));
      nlohmann::json same = *h;
      same["shard"] = "";
      if (!first) first = same;
      if (same != *first) return fail(s + ": another sweep, or the same one changed (fingerprint " + field(*h, "fingerprint") + ")");
      const std::string fp = first->at("fingerprint").get<std::string>();
      for (size_t i = 0; i < first->at("points").get<size_t>(); ++i) {
        PointFile f = read_point(s, i, fp);
        if (!f.problem.empty())
          return fail(fmt::format("{}: {}; run that shard again (racewin sweep resumes it)", point_path(s, i).string(), f.problem));
        if (!f.doc) continue;  // another shard's point, or a stale one of a changed sweep
        if (points.count(i)) return fail(fmt::format("point {} is in two shards", i));
        points.emplace(i, std::move(*f.doc));
      }
    }
    std::vector<nlohmann::json> all;
    for (size_t i = 0; i < first->at("points").get<size_t>(); ++i) {
      auto it = points.find(i);
      if (it == points.end()) return fail(fmt::format("point {} is in no shard: run the missing shard first", i));
      all.push_back(std::move(it->second));
    }
    const fs::path out(out_);
    std::error_code ec;
    for (const auto& s : shards_)
      if (fs::equivalent(out, s, ec)) return fail(out_ + " is one of the shards: give another --out");
    if (fs::exists(out, ec) && !fs::is_directory(out, ec)) return fail(out_ + ": not a directory");
    if (fs::is_directory(out, ec) && !fs::is_empty(out, ec)) {
      if (!force_) return fail(out_ + " holds files: give an empty or new --out, or --force to replace its sweep");
      for (const char* name : {"points", "sweep.json", "sweep.csv", "sensitivity.csv", "uncertainty.csv"}) fs::remove_all(out / name);
    }
    ensure_writable_dir(out);
    for (size_t i = 0; i < all.size(); ++i) write_atomic(point_path(out, i), all[i].dump(1) + "\n");
    (*first)["shard"] = "1/1";
    write_atomic(out / "sweep.json", first->dump(2) + "\n");
    write_table(out, *first, all);
    std::cout << fmt::format("merged {} points from {} shard(s) into {}\n", all.size(), shards_.size(), out_);
    return 0;
  }

  int fail(const std::string& msg) {
    std::cerr << "racewin merge: " << msg << "\n";
    return 1;
  }
  std::vector<std::string> shards_;
  std::string out_;
  bool force_ = false;
};

}  // namespace

std::unique_ptr<Command> make_merge_command() { return std::make_unique<MergeCommand>(); }

}  // namespace racewin::cli
