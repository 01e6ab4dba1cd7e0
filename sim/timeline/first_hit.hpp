#pragma once
// "How it happened": each vCPU's recent events in a ring, and for the first hit of each hazard the
// rings' contents plus a few events of each vCPU after it. A forced branch (a copy of the run) reads
// the main run's rings, frozen while it runs, and records into its own.
#include <cstdint>
#include <vector>

#include "rare/rare_event.hpp"
#include "timeline/timeline.hpp"

namespace racewin {

class FirstHitRecorder final : public BranchRecorder {
 public:
  static constexpr size_t kPerVcpu = 256;  // events kept per vCPU before a hit (steps count twice)
  static constexpr size_t kTail = 32;      // events of each vCPU after it

  FirstHitRecorder(int vcpus, std::vector<std::string> hazard_names);
  void record(const TraceEvent& e) override;  // the main run, or the branch between begin and end
  void begin_branch() override;
  void end_branch(double weight, Time now) override;  // the branch's hits count with `weight`
  void finish(Time end);  // the run is over: pending hits keep what they have
  std::vector<FirstHit> take();  // in the order of hazard indexes

 private:
  class Ring {
   public:
    void push(const TraceEvent& e, uint64_t seq);
    void clear() { size_ = next_ = 0; }
    void append_to(std::vector<Recorded>& out, size_t last) const;  // its last `last` events, oldest first
    size_t size() const { return size_; }

   private:
    std::vector<Recorded> buf_ = std::vector<Recorded>(kPerVcpu);
    size_t next_ = 0, size_ = 0;
  };
  struct Pending {
    FirstHit hit;
    std::vector<size_t> tail_left;  // per vCPU
    size_t left = 0;
  };
  void start(const TraceEvent& e, bool branch);
  static void complete(Pending& p, Time end, std::vector<FirstHit>& done);

  std::vector<std::string> names_;
  std::vector<Ring> main_, branch_;
  std::vector<Pending> pending_, branch_pending_;
  std::vector<uint8_t> taken_;  // per hazard
  std::vector<FirstHit> done_;
  bool in_branch_ = false;
  uint64_t seq_ = 0, branch_seq_ = 0;
};

}  // namespace racewin
