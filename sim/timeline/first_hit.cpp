// Rings of recent events per vCPU, and the first hit of each hazard taken from them.
#include "timeline/first_hit.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "model/machine.hpp"

namespace racewin {

void FirstHitRecorder::Ring::push(const TraceEvent& e, uint64_t seq) {
  Recorded& r = buf_[next_];
  r.ev = e;
  r.ev.detail = nullptr;
  r.seq = seq;
  if (e.detail) r.detail = *e.detail;
  else r.detail.clear();
  next_ = (next_ + 1) % kPerVcpu;
  size_ = std::min(size_ + 1, kPerVcpu);
}

void FirstHitRecorder::Ring::append_to(std::vector<Recorded>& out, size_t last) const {
  for (size_t i = std::min(last, size_); i > 0; --i) out.push_back(buf_[(next_ + kPerVcpu - i) % kPerVcpu]);
}

FirstHitRecorder::FirstHitRecorder(int vcpus, std::vector<std::string> hazard_names)
    : names_(std::move(hazard_names)), main_(size_t(vcpus)), branch_(size_t(vcpus)), taken_(names_.size(), 0) {}

void FirstHitRecorder::record(const TraceEvent& e) {
  const size_t v = size_t(e.vcpu);
  const uint64_t seq = in_branch_ ? branch_seq_++ : seq_++;
  (in_branch_ ? branch_ : main_)[v].push(e, seq);
  auto& pending = in_branch_ ? branch_pending_ : pending_;
  for (size_t i = 0; i < pending.size();) {
    Pending& p = pending[i];
    if (p.tail_left[v] > 0) {
      p.hit.events.emplace_back(e, seq);
      --p.tail_left[v];
      if (--p.left == 0) {
        complete(p, e.time, done_);
        pending.erase(pending.begin() + std::ptrdiff_t(i));
        continue;
      }
    }
    ++i;
  }
  if (e.kind == TraceEvent::Kind::Hazard && !taken_[size_t(e.obj)]) start(e, in_branch_);
}

void FirstHitRecorder::start(const TraceEvent& e, bool branch) {
  taken_[size_t(e.obj)] = 1;
  Pending p;
  p.hit.hazard = size_t(e.obj);
  p.hit.name = names_[size_t(e.obj)];
  p.hit.detail = e.detail ? *e.detail : "";
  p.hit.time = e.time;
  p.hit.branch = branch;
  for (size_t v = 0; v < main_.size(); ++v) {  // a branch's own events, after the main run's before it
    size_t own = branch ? branch_[v].size() : 0;
    main_[v].append_to(p.hit.events, kPerVcpu - own);
    if (branch) branch_[v].append_to(p.hit.events, own);
  }
  std::sort(p.hit.events.begin(), p.hit.events.end(), [](const Recorded& a, const Recorded& b) { return a.seq < b.seq; });
  p.tail_left.assign(main_.size(), kTail);
  p.left = kTail * main_.size();
  (branch ? branch_pending_ : pending_).push_back(std::move(p));
}

void FirstHitRecorder::complete(Pending& p, Time end, std::vector<FirstHit>& done) {
  p.hit.end = end;
  done.push_back(std::move(p.hit));
}

void FirstHitRecorder::begin_branch() {
  in_branch_ = true;
  branch_seq_ = seq_;
  for (auto& r : branch_) r.clear();
}

void FirstHitRecorder::end_branch(double weight, Time now) {
  for (auto& p : branch_pending_) {
    p.hit.weight = weight;
    complete(p, now, done_);
  }
  branch_pending_.clear();
  in_branch_ = false;
}

void FirstHitRecorder::finish(Time end) {
  for (auto& p : pending_) complete(p, end, done_);
  pending_.clear();
}

std::vector<FirstHit> FirstHitRecorder::take() {
  std::sort(done_.begin(), done_.end(), [](const FirstHit& a, const FirstHit& b) { return a.hazard < b.hazard; });
  return std::move(done_);
}

TimelineMeta FirstHit::meta(const CaseConfig& cfg) const {
  TimelineMeta m{"first hit of " + name, end, true, {}};
  std::string where = branch ? fmt::format("in a forced branch, weight {:.3g}", weight) : "in the main run";
  if (cfg.replications > 1) where += fmt::format(", replication {}", replication);
  m.other = {{"hazard", name}, {"detail", detail}, {"time_us", time / 1000}, {"branch", branch}, {"weight", weight},
             {"replication", replication},
             {"summary", fmt::format("first hit of {} at {:.3f} us ({}): {}", name, time / 1000, where, detail)}};
  return m;
}

}  // namespace racewin
