#include "simgrid_engine.hpp"

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
  execs_.resize(size_t(vcpus));
  for (auto* h : hosts_) h->set_pstate(0);
}

Time SimGridEngine::now() const { return sg4::Engine::get_clock() - t0_; }

void SimGridEngine::start_work(int v, double amount) {
  execs_[size_t(v)] = sg4::this_actor::exec_init(std::isfinite(amount) ? amount : kSpin)->set_host(hosts_[size_t(v)]);
  execs_[size_t(v)]->start();
}

double SimGridEngine::stop_work(int v) {
  auto& e = execs_[size_t(v)];
  if (!e) return 0;
  double rem = e->get_remaining();
  e->cancel();
  e = nullptr;
  return rem >= kSpin / 2 ? INFINITY : rem;
}

void SimGridEngine::set_stolen(int v, bool stolen) { hosts_[size_t(v)]->set_pstate(stolen ? 1 : 0); }

void SimGridEngine::schedule(Time at, const Timer& t) { timers_.push({at, seq_++, t}); }

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
  });
  w.engine->run();
  if (error) std::rethrow_exception(error);
}

// At one instant the native engine's order holds: finished work first, lowest vCPU first, then
// due timers in the order they were set. SimGrid may report simultaneous completions and timeouts
// in any order, so after each wait everything due now is picked in that order.
void SimGridEngine::drive(Machine& m, Time until, RunControl& control) {
  constexpr double kEps = 1e-6;  // ns: SimGrid's solver leaves residues around this size
  t0_ = sg4::Engine::get_clock();
  m.start();
  uint64_t n = 0;
  std::vector<sg4::ExecPtr> active;
  while (!m.finished()) {
    active.clear();
    for (auto& e : execs_)
      if (e) active.push_back(e);
    double next = timers_.empty() ? INFINITY : timers_.top().at;
    if (until > 0) next = std::min(next, until);
    if (!std::isfinite(next) && active.empty()) break;  // nothing can happen any more
    double timeout = std::isfinite(next) ? std::max(0.0, next - now()) : -1;
    if (active.empty()) sg4::this_actor::sleep_for(timeout);
    else sg4::Exec::wait_any_for(active, timeout);
    bool progressed = true;
    while (progressed && !m.finished()) {
      progressed = false;
      for (size_t v = 0; v < execs_.size(); ++v) {
        auto& e = execs_[v];
        if (e && (e->get_state() == sg4::Activity::State::FINISHED || e->get_remaining() <= kEps)) {
          e = nullptr;
          m.on_work_done(int(v));
          progressed = true;
          break;
        }
      }
      if (progressed) continue;
      if (!timers_.empty() && timers_.top().at <= now() + kEps && (until <= 0 || timers_.top().at <= until)) {
        Timer t = timers_.top().timer;
        timers_.pop();
        m.on_timer(t);
        progressed = true;
      }
      if (progressed && (++n & 0x3fff) == 0) {
        if (control.progress) control.progress(now());
        if (control.stop_requested()) {
          control.interrupted = true;
          return;
        }
      }
    }
    if (until > 0 && now() >= until - kEps && (timers_.empty() || timers_.top().at > until)) {
      bool due = false;
      for (auto& e : execs_) due = due || (e && e->get_remaining() <= kEps);
      if (!due) break;
    }
  }
}

}  // namespace racewin
