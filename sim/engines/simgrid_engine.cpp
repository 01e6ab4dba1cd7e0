#include "engines/simgrid_engine.hpp"

#include <cmath>
#include <exception>

namespace sg4 = simgrid::s4u;

namespace racewin {
namespace {

constexpr int kMaxVcpus = 64;
constexpr double kStolenSpeed = 1e-12;  // speed 0 is not honoured by SimGrid 3.32's pstates
constexpr double kSpin = 1e18;          // "forever" as an Exec amount (31 years of ns)

struct World {
  sg4::Engine* engine = nullptr;
  std::vector<sg4::Host*> vcpus;
  sg4::Host* timers = nullptr;
  sg4::Host* driver = nullptr;
  std::string trace;
};

World& world(const std::string& trace, int vcpus) {
  static World w;
  if (w.engine) return w;
  static std::vector<std::string> args = {"racewin", "--log=root.thres:critical", "--cfg=network/model:CM02"};
  if (!trace.empty()) {
    args.push_back("--cfg=tracing:yes");
    args.push_back("--cfg=tracing/uncategorized:yes");
    args.push_back("--cfg=tracing/filename:" + trace);
    w.trace = trace;
  }
  static std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = int(argv.size());
  w.engine = new sg4::Engine(&argc, argv.data());
  auto* zone = sg4::create_full_zone("machine");
  int hosts = trace.empty() ? kMaxVcpus : vcpus;  // a trace shows only the vCPUs of its case
  for (int v = 0; v < hosts; ++v) w.vcpus.push_back(zone->create_host("vcpu" + std::to_string(v), std::vector<double>{1.0, kStolenSpeed}));
  w.timers = zone->create_host("timers", 1.0)->set_core_count(1 << 20);
  w.driver = zone->create_host("driver", 1.0);
  zone->seal();
  return w;
}

}  // namespace

SimGridEngine::SimGridEngine(int vcpus, const std::string& paje_trace) {
  if (vcpus > kMaxVcpus) throw ModelError("the SimGrid engine supports at most 64 vCPUs");
  World& w = world(paje_trace, vcpus);
  if (!paje_trace.empty() && w.trace != paje_trace)
    throw ModelError("SimGrid can write one Paje trace per process; run the traced case on its own");
  if (vcpus > int(w.vcpus.size())) throw ModelError("this process's SimGrid platform has fewer vCPUs than the case");
  hosts_.assign(w.vcpus.begin(), w.vcpus.begin() + vcpus);
  timer_host_ = w.timers;
  execs_.resize(size_t(vcpus));
  stolen_.assign(size_t(vcpus), 0);
  zero_deferred_.assign(size_t(vcpus), 0);
  for (auto* h : hosts_) h->set_pstate(0);
}

Time SimGridEngine::now() const { return sg4::Engine::get_clock() - t0_; }

void SimGridEngine::start_work(int v, double amount) {
  if (amount <= 0 && stolen_[size_t(v)]) {
    zero_deferred_[size_t(v)] = 1;
    return;
  }
  execs_[size_t(v)] = sg4::this_actor::exec_init(std::isfinite(amount) ? amount : kSpin)->set_host(hosts_[size_t(v)]);
  execs_[size_t(v)]->start();
}

double SimGridEngine::stop_work(int v) {
  zero_deferred_[size_t(v)] = 0;
  auto& e = execs_[size_t(v)];
  if (!e) return 0;
  double rem = e->get_remaining();
  e->cancel();
  e = nullptr;
  return rem >= kSpin / 2 ? INFINITY : rem;
}

void SimGridEngine::set_stolen(int v, bool stolen) {
  hosts_[size_t(v)]->set_pstate(stolen ? 1 : 0);
  stolen_[size_t(v)] = stolen;
  if (!stolen && zero_deferred_[size_t(v)]) {
    zero_deferred_[size_t(v)] = 0;
    start_work(v, 0);
  }
}

void SimGridEngine::schedule(Time at, const Timer& t) {
  auto e = sg4::this_actor::exec_init(std::max(0.0, at - now()))->set_host(timer_host_);
  e->start();
  timers_.push_back({e, at, seq_++, t});
}

void SimGridEngine::run(Machine& m, Time until, RunControl& control) {
  World& w = world({}, 0);
  std::exception_ptr error;
  sg4::Actor::create("driver", w.driver, [&]() {
    try {
      drive(m, until, control);
    } catch (...) {
      error = std::current_exception();
    }
    for (auto& e : execs_)
      if (e) e->cancel(), e = nullptr;
    for (auto& p : timers_) p.exec->cancel();
    timers_.clear();
  });
  w.engine->run();
  if (error) std::rethrow_exception(error);
}

namespace {
constexpr double kEps = 1e-6;  // ns: SimGrid's solver leaves residues around this size
bool finished(const sg4::ExecPtr& e) {
  return e->get_state() == sg4::Activity::State::FINISHED || e->get_remaining() <= kEps;
}
}  // namespace

// At one instant the native engine's order holds: finished work first, lowest vCPU first, then
// due timers in (time, order set). SimGrid may report simultaneous completions in any order, so
// after each wait everything due now is picked in that order.
bool SimGridEngine::step_due(Machine& m) {
  for (size_t v = 0; v < execs_.size(); ++v)
    if (execs_[v] && finished(execs_[v])) {
      execs_[v] = nullptr;
      m.on_work_done(int(v));
      return true;
    }
  size_t best = timers_.size();
  for (size_t i = 0; i < timers_.size(); ++i)
    if (finished(timers_[i].exec) &&
        (best == timers_.size() || timers_[i].at < timers_[best].at ||
         (timers_[i].at == timers_[best].at && timers_[i].seq < timers_[best].seq)))
      best = i;
  if (best == timers_.size()) return false;
  Timer t = timers_[best].timer;
  timers_[best] = timers_.back();
  timers_.pop_back();
  m.on_timer(t);
  return true;
}

void SimGridEngine::drive(Machine& m, Time until, RunControl& control) {
  t0_ = sg4::Engine::get_clock();
  m.start();
  uint64_t n = 0;
  std::vector<sg4::ActivityPtr> active;
  while (!m.finished()) {
    active.clear();
    for (auto& e : execs_)
      if (e) active.push_back(e);
    for (auto& p : timers_) active.push_back(p.exec);
    if (active.empty()) break;  // nothing can happen any more
    double timeout = until > 0 ? std::max(0.0, until - now()) : -1;
    sg4::Activity::wait_any_for(active, timeout);
    while (!m.finished() && step_due(m)) {
      if ((++n & 0x3fff) == 0) {
        if (control.progress) control.progress(now());
        // The native engine's checkpoints: one step_due is one of its loop's events.
        if ((n & (kCheckpointEvents - 1)) == 0) m.check_progress();
        if ((n & (kCheckpointEvents - 1)) == 0 && control.should_stop && control.should_stop(m)) {
          control.stopped = true;
          return;
        }
        if (control.stop_requested()) {
          control.interrupted = true;
          return;
        }
      }
    }
    if (until > 0 && now() >= until - kEps) break;
  }
}

}  // namespace racewin
