#pragma once
// Results as a table for people and as CSV/JSON for other tools.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "base/json_number.hpp"
#include "config/scenario.hpp"
#include "output/write_file.hpp"
#include "run/compare.hpp"
#include "run/compare_forced.hpp"
#include "run/run.hpp"

namespace racewin {

struct RunInfo {
  std::string program_version;
  std::string scenario_file;
  std::string command_line;
};

// One line on a running case under a stopping rule: its least settled hazard's estimate and
// interval, how many hazards meet the rule, and the wall time left (`left`, seconds).
std::string stopping_progress(const std::string& case_name, const StoppingRule& rule, const StopCheck& c, double left);
// How tables name a case: its name with its deviations from the scenario file (--set), if any.
std::string label_of(const Scenario& sc, const std::string& case_name);
// The tables for people (output_table.cpp): per hazard, the race windows, how each run stopped,
// what forcing did; an estimate that cannot be trusted is marked in its row, a hazard nothing can
// hit is not given a P(hit); under them each case's deviations from the file in full.
void print_table(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results);
// The stopping section of the table and of results.json (output_stopping.cpp).
void print_stopping(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results);
nlohmann::json stopping_json(const Stopping& s);
// The line that ends a table whose rows rest on fewer than about 3 expected hits (empty if none
// does): how many, and what would give an estimate (forcing, a longer run).
std::string short_run_line(const Scenario& sc, const std::vector<CaseResult>& results);
nlohmann::json results_json(const RunInfo& info, const Scenario& sc, const std::vector<CaseResult>& results,
                            bool complete);
// The rare-event section of the table, and of results.json (output_rare.cpp).
void print_forced(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results);
nlohmann::json forced_json(const ForcedRun& f);
// The forcing section's line under a forced estimate: its part from hits with no forced arrival,
// and the 95% bound on that part (ForcedHazard::unforced_hi).
std::string unforced_line(const ForcedHazard& h);
// "A/B": P(hazard) of case A over case B with a 95% interval, paired or independent as case_ratio
// (run/ratio.hpp) decides, saying which.
std::string ratio_line(const std::vector<CaseResult>& results, const std::string& spec, const std::string& hazard);
// racewin compare: a batch comparison's header and rows (a hazard's P per iteration, then its events
// per second under an empty name), and with --rare-event force: the table per case, and compare.json's "cases" (output_compare.cpp).
void print_compare_header(std::ostream& out, size_t hazard_width);
void print_compare_row(std::ostream& out, size_t hazard_width, const std::string& hazard, const Comparison& c, Measure m);
// racewin compare --rare-event force: the table per case, and compare.json's "cases" (output_compare.cpp).
void print_forced_compare(std::ostream& out, const std::vector<ForcedCompareCase>& cases);
nlohmann::json forced_compare_cases_json(const std::vector<ForcedCompareCase>& cases);
std::string results_csv(const Scenario& sc, const std::vector<CaseResult>& results);
// Writes results.json and hazards.csv (a pure function of configuration and seed) and
// timing.json (wall-clock figures) into `dir` (created), atomically file by file. Throws OutputError.
void write_results(const std::string& dir, const RunInfo& info, const Scenario& sc,
                   const std::vector<CaseResult>& results, bool complete);

}  // namespace racewin
