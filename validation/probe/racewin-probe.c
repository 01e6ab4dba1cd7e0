/* racewin-probe: measure a real machine for racewin, and write one JSON file describing it.
 *
 * One file, C11 + POSIX + Linux, no dependencies, so that it can be copied to an s390x z/VM guest,
 * an arm64 VM or an x86 cloud VM and built there:
 *
 *     cc -O2 -pthread -o racewin-probe racewin-probe.c
 *     ./racewin-probe -o probe.json            # about 95 s on 2 CPUs with the defaults
 *
 * It measures three things (docs/probe.md documents them and the file):
 *   stalls  a pinned thread spins on CLOCK_MONOTONIC and records every gap above a threshold
 *           (its start and length): one CPU at a time, then all CPUs at once (to see whether
 *           stalls on different vCPUs come together), with /proc/stat's steal and
 *           /proc/interrupts before and after. A gap is time the thread did not run: a tick, an
 *           interrupt, a hypervisor exit, steal.
 *   paths   the kernel paths of racewin's study, timed per call: madvise(MADV_DONTNEED) of a
 *           present and of an empty PTE and the write fault that refills it, alone and with a
 *           second thread of the mm running on another CPU (so that the zap needs a shootdown),
 *           the /proc/self/mem writer alone, then the two LTP dirtyc0w_child loops together
 *           (madvise of a private read-only file mapping, and lseek+write of 18 bytes to it
 *           through /proc/self/mem).
 *   race    a race whose window is known: one pinned thread opens a window (a store), does W ns of
 *           calibrated work and closes it (a store); another checks it every G ns of work. Every
 *           window's length is measured and every hit counted: stalls stretch windows, which is
 *           the mechanism racewin's answer rests on.
 * Times include one clock read each (its cost is recorded as clock.read_ns). Ctrl-C ends the part
 * under way and writes what was measured, marked "interrupted".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PROBE_VERSION "1.0"
#define FORMAT "racewin-probe/1"
#define MAX_CPUS 1024
#define HIST_PER_OCTAVE 8
#define HIST_BINS (HIST_PER_OCTAVE * 44)

static volatile sig_atomic_t g_stop;
static int g_quiet;

static void on_sigint(int sig) { (void)sig; g_stop = 1; }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One line on standard error, "racewin-probe: ..." */
static void vsay(const char *fmt, va_list ap) {
  fputs("racewin-probe: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

static void progress(const char *fmt, ...) {
  if (g_quiet) return;
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
  exit(2);
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) die("out of memory (%zu x %zu bytes)", n, size);
  return p;
}

/* ---- calibrated work: a loop the compiler keeps, W ns of it from a measured rate ---- */

static void work(uint64_t loops) {
  for (uint64_t i = 0; i < loops; i++) __asm__ __volatile__("" ::: "memory");
}

static double g_loops_per_ns;

static void calibrate_work(void) {
  const uint64_t n = 2000000;
  int64_t best = INT64_MAX;
  for (int i = 0; i < 21; i++) { /* the fastest of 21: a stall only lengthens a trial */
    int64_t t0 = now_ns();
    work(n);
    int64_t d = now_ns() - t0;
    if (d < best) best = d;
  }
  g_loops_per_ns = (double)n / (double)(best > 0 ? best : 1);
}

static uint64_t loops_for(int64_t ns) { return (uint64_t)((double)ns * g_loops_per_ns + 0.5); }

/* ---- a series of timed events: every one counted and in a log histogram, a reservoir of raw values ---- */

typedef struct {
  int64_t count, sum, min, max;
  int64_t hist[HIST_BINS];
  int64_t *sample;
  size_t cap, n;
  uint64_t rng;
} series;

static void series_init(series *s, size_t cap) {
  memset(s, 0, sizeof *s);
  s->min = INT64_MAX;
  s->cap = cap;
  s->sample = xcalloc(cap, sizeof(int64_t));
  s->rng = 0x9e3779b97f4a7c15ull;
}

static int hist_bin(int64_t v) {
  if (v < 1) return 0;
  int b = 0; /* floor(HIST_PER_OCTAVE * log2(v)) without libm */
  int oct = 63 - __builtin_clzll((unsigned long long)v);
  double frac = (double)v / (double)(1ull << oct);
  double edge = 1.0, step = 1.0905077326652577; /* 2^(1/8) */
  while (b < HIST_PER_OCTAVE - 1 && frac >= edge * step) { edge *= step; b++; }
  int i = oct * HIST_PER_OCTAVE + b;
  return i < HIST_BINS ? i : HIST_BINS - 1;
}

static void series_add(series *s, int64_t v) {
  s->count++;
  s->sum += v;
  if (v < s->min) s->min = v;
  if (v > s->max) s->max = v;
  s->hist[hist_bin(v)]++;
  if (s->n < s->cap) {
    s->sample[s->n++] = v;
  } else if (s->cap) { /* reservoir sampling: every value kept with probability cap/count */
    s->rng ^= s->rng << 13; s->rng ^= s->rng >> 7; s->rng ^= s->rng << 17;
    uint64_t j = s->rng % (uint64_t)s->count;
    if (j < s->cap) s->sample[j] = v;
  }
}

/* ---- gaps: (start, length) records of one spinning thread ---- */

typedef struct {
  int cpu, pinned;
  int64_t *start, *len;
  size_t n, cap;
  int64_t reads, dropped, min_read, spun_ns, gap_ns;
} gaps;

static void gaps_init(gaps *g, int cpu, size_t cap) {
  memset(g, 0, sizeof *g);
  g->cpu = cpu;
  g->cap = cap;
  g->start = xcalloc(cap, sizeof(int64_t));
  g->len = xcalloc(cap, sizeof(int64_t));
  g->min_read = INT64_MAX;
}

static int pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/* Spin until `until`, recording each gap between two clock reads longer than `threshold`. */
static void spin_gaps(gaps *g, int64_t origin, int64_t until, int64_t threshold) {
  int64_t prev = now_ns(), first = prev;
  while (prev < until && !g_stop) {
    int64_t t = now_ns(), d = t - prev;
    g->reads++;
    if (d > threshold) {
      g->gap_ns += d;
      if (g->n < g->cap) {
        g->start[g->n] = prev - origin;
        g->len[g->n++] = d;
      } else {
        g->dropped++;
      }
    } else if (d < g->min_read) {
      g->min_read = d;
    }
    prev = t;
  }
  g->spun_ns = prev - first;
}

/* ---- /proc readers ---- */

typedef struct { char label[32]; char desc[64]; int64_t count[MAX_CPUS]; } irq_line;
typedef struct { irq_line *line; int n, ncpu; } irq_table;

static irq_table read_interrupts(void) {
  irq_table t = {xcalloc(512, sizeof(irq_line)), 0, 0};
  FILE *f = fopen("/proc/interrupts", "r");
  if (!f) return t;
  char buf[16384];
  if (fgets(buf, sizeof buf, f)) /* header: CPU0 CPU1 ... */
    for (char *p = buf; (p = strstr(p, "CPU")); p += 3) t.ncpu++;
  if (t.ncpu > MAX_CPUS) t.ncpu = MAX_CPUS;
  while (t.n < 512 && fgets(buf, sizeof buf, f)) {
    char *colon = strchr(buf, ':');
    if (!colon) continue;
    irq_line *l = &t.line[t.n];
    char *lab = buf;
    while (*lab == ' ') lab++;
    snprintf(l->label, sizeof l->label, "%.*s", (int)(colon - lab), lab);
    char *p = colon + 1;
    int c = 0;
    for (; c < t.ncpu; c++) {
      char *end;
      long long v = strtoll(p, &end, 10);
      if (end == p) break;
      l->count[c] = v;
      p = end;
    }
    if (c == 0) continue; /* ERR:, MIS: with one total */
    while (*p == ' ') p++;
    p[strcspn(p, "\n")] = 0;
    snprintf(l->desc, sizeof l->desc, "%s", p);
    t.n++;
  }
  fclose(f);
  return t;
}

typedef struct { int64_t field[MAX_CPUS][10]; int present[MAX_CPUS]; } cpu_stat;

static void read_stat(cpu_stat *s) {
  memset(s, 0, sizeof *s);
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return;
  char buf[1024];
  while (fgets(buf, sizeof buf, f)) {
    int cpu;
    long long v[10] = {0};
    if (sscanf(buf, "cpu%d %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 9 && cpu >= 0 && cpu < MAX_CPUS) {
      s->present[cpu] = 1;
      for (int i = 0; i < 10; i++) s->field[cpu][i] = v[i];
    }
  }
  fclose(f);
}

/* The first line of FILE that starts with KEY, its value after ':' or '=' trimmed; "" if none. */
static void file_value(const char *file, const char *key, char *out, size_t size) {
  out[0] = 0;
  FILE *f = fopen(file, "r");
  if (!f) return;
  char buf[4096];
  size_t k = strlen(key);
  while (fgets(buf, sizeof buf, f)) {
    if (strncmp(buf, key, k) != 0) continue;
    char *p = buf + k;
    while (*p == ' ' || *p == '\t' || *p == ':' || *p == '=') p++;
    p[strcspn(p, "\n")] = 0;
    snprintf(out, size, "%s", p);
    break;
  }
  fclose(f);
}

static void file_line(const char *file, char *out, size_t size) {
  out[0] = 0;
  FILE *f = fopen(file, "r");
  if (!f) return;
  if (fgets(out, (int)size, f)) out[strcspn(out, "\n")] = 0;
  fclose(f);
}

/* ---- JSON output ---- */

typedef struct { FILE *f; int depth; int first[32]; int inline_depth; } json;

static void j_sep(json *j) {
  if (!j->first[j->depth]) fputc(',', j->f);
  j->first[j->depth] = 0;
  if (j->inline_depth && j->depth >= j->inline_depth) return;
  fputc('\n', j->f);
  for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void j_str(json *j, const char *s) {
  fputc('"', j->f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(j->f, "\\%c", c);
    else if (c < 0x20) fprintf(j->f, "\\u%04x", c);
    else fputc(c, j->f);
  }
  fputc('"', j->f);
}

static void j_key(json *j, const char *k) { j_sep(j); j_str(j, k); fputs(": ", j->f); j->first[j->depth] = 2; }

static void j_open(json *j, char c) {
  if (j->first[j->depth] != 2) j_sep(j);
  else j->first[j->depth] = 0;
  fputc(c, j->f);
  j->first[++j->depth] = 1;
}

static void j_close(json *j, char c) {
  int empty = j->first[j->depth];
  j->depth--;
  if (!empty && !(j->inline_depth && j->depth + 1 >= j->inline_depth)) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
  }
  fputc(c, j->f);
}

static void j_value_prefix(json *j) {
  if (j->first[j->depth] == 2) j->first[j->depth] = 0;
  else j_sep(j);
}
static void j_int(json *j, int64_t v) { j_value_prefix(j); fprintf(j->f, "%lld", (long long)v); }
static void j_num(json *j, double v) { j_value_prefix(j); fprintf(j->f, "%.6g", v); }
static void j_text(json *j, const char *s) { j_value_prefix(j); j_str(j, s); }
static void j_bool(json *j, int v) { j_value_prefix(j); fputs(v ? "true" : "false", j->f); }
static void kv_int(json *j, const char *k, int64_t v) { j_key(j, k); j_int(j, v); }
static void kv_num(json *j, const char *k, double v) { j_key(j, k); j_num(j, v); }
static void kv_text(json *j, const char *k, const char *v) { j_key(j, k); j_text(j, v); }
static void kv_bool(json *j, const char *k, int v) { j_key(j, k); j_bool(j, v); }

/* Arrays of numbers on one line each: [a, b, ...]. */
static void kv_ints(json *j, const char *k, const int64_t *v, size_t n) {
  j_key(j, k);
  j_value_prefix(j);
  fputc('[', j->f);
  for (size_t i = 0; i < n; i++) fprintf(j->f, i ? ",%lld" : "%lld", (long long)v[i]);
  fputc(']', j->f);
}

static void emit_series(json *j, const char *name, const series *s) {
  j_key(j, name);
  j_open(j, '{');
  kv_int(j, "count", s->count);
  kv_num(j, "mean_ns", s->count ? (double)s->sum / (double)s->count : 0.0);
  kv_int(j, "min_ns", s->count ? s->min : 0);
  kv_int(j, "max_ns", s->max);
  /* hist: [lower edge ns, count] for each non-empty bin; bin i covers [2^(i/8), 2^((i+1)/8)) */
  int64_t pairs[2 * HIST_BINS];
  size_t n = 0;
  double edge = 1.0, step = 1.0905077326652577;
  for (int i = 0; i < HIST_BINS; i++, edge *= step)
    if (s->hist[i]) { pairs[n++] = (int64_t)(edge + 0.5); pairs[n++] = s->hist[i]; }
  kv_ints(j, "hist", pairs, n);
  kv_ints(j, "sample_ns", s->sample, s->n);
  j_close(j, '}');
}

/* ---- settings ---- */

typedef struct {
  const char *out, *name, *dir, *parts;
  double stall_s, path_s, race_s, wakeup_s;
  int64_t sleep_ns;
  int64_t threshold_ns;
  size_t samples;
  int cpu_a, cpu_b;
  char races[256];
} settings;

static int has_part(const settings *s, const char *part) {
  const char *p = s->parts;
  size_t k = strlen(part);
  while ((p = strstr(p, part))) {
    if ((p == s->parts || p[-1] == ',') && (p[k] == 0 || p[k] == ',')) return 1;
    p += k;
  }
  return 0;
}

static int g_cpus[MAX_CPUS], g_ncpu;

static void allowed_cpus(void) {
  cpu_set_t set;
  g_ncpu = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < MAX_CPUS && c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) g_cpus[g_ncpu++] = c;
  if (g_ncpu == 0) g_cpus[g_ncpu++] = 0;
}

/* ---- the machine, as the guest sees it ---- */

/* The kernel's own verdict, from its log: x86's init_hypervisor_platform() prints "Hypervisor
 * detected: NAME", and that is the platform whose pv_ops the kernel installed (a PVM guest shows
 * another hypervisor's CPUID signature). Empty if the log is not readable (dmesg_restrict). */
static void klog_hypervisor(char *out, size_t size) {
  out[0] = 0;
  int n = klogctl(10, NULL, 0); /* SYSLOG_ACTION_SIZE_BUFFER */
  if (n <= 0) return;
  char *log = xcalloc((size_t)n + 1, 1);
  int got = klogctl(3, log, n); /* SYSLOG_ACTION_READ_ALL */
  const char *key = "Hypervisor detected: ";
  char *at = got > 0 ? strstr(log, key) : NULL;
  if (at) {
    at += strlen(key);
    size_t len = strcspn(at, "\n");
    if (len >= size) len = size - 1;
    memcpy(out, at, len);
    out[len] = 0;
  }
  free(log);
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
/* The hypervisor's CPUID signature (leaf 0x40000000), only when CPUID says one is present. */
static void cpuid_hypervisor(char out[13]) {
  unsigned a, b, c, d;
  out[0] = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31))) return;
  __cpuid(0x40000000, a, b, c, d);
  memcpy(out, &b, 4);
  memcpy(out + 4, &c, 4);
  memcpy(out + 8, &d, 4);
  out[12] = 0;
}
#else
static void cpuid_hypervisor(char out[13]) { out[0] = 0; }
#endif

static const char *const config_keys[] = {
    "CONFIG_HZ", "CONFIG_HZ_PERIODIC", "CONFIG_NO_HZ_IDLE", "CONFIG_NO_HZ_FULL", "CONFIG_PREEMPT_NONE",
    "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_PREEMPT", "CONFIG_PREEMPT_RT", "CONFIG_PREEMPT_DYNAMIC",
    "CONFIG_PARAVIRT", "CONFIG_PARAVIRT_SPINLOCKS", "CONFIG_KVM_GUEST", "CONFIG_HYPERV", "CONFIG_XEN",
    "CONFIG_VIRT_CPU_ACCOUNTING_GEN", "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_PROVE_LOCKING",
    "CONFIG_DEBUG_VM", "CONFIG_DEBUG_PAGEALLOC", "CONFIG_KASAN", "CONFIG_PROC_MEM_ALWAYS_FORCE", NULL};

/* The config's lines of interest from `f`; how many lines it had. */
static int read_config(json *j, FILE *f) {
  char buf[1024];
  int lines = 0;
  while (fgets(buf, sizeof buf, f)) {
    lines++;
    buf[strcspn(buf, "\n")] = 0;
    char *eq = strchr(buf, '=');
    if (buf[0] == '#' || !eq) continue;
    *eq = 0;
    for (int k = 0; config_keys[k]; k++)
      if (strcmp(buf, config_keys[k]) == 0) kv_text(j, buf, eq + 1);
  }
  return lines;
}

/* /proc/config.gz through gzip (a shell and gzip are needed: a minimal initramfs has neither), else
 * /boot/config-RELEASE. */
static void emit_kernel_config(json *j, const char *release) {
  char path[512];
  const char *source = "/proc/config.gz";
  int lines = 0;
  j_key(j, "kernel_config");
  j_open(j, '{');
  FILE *f = access("/proc/config.gz", R_OK) == 0 ? popen("gzip -dc /proc/config.gz 2>/dev/null", "r") : NULL;
  if (f) {
    lines = read_config(j, f);
    pclose(f);
  }
  if (lines == 0) {
    snprintf(path, sizeof path, "/boot/config-%s", release);
    source = path;
    if ((f = fopen(path, "r"))) {
      lines = read_config(j, f);
      fclose(f);
    }
  }
  kv_text(j, "source", lines ? source : "none found (keys unknown, not unset)");
  j_close(j, '}');
}

static void emit_machine(json *j) {
  struct utsname u;
  char buf[1024], hv[13];
  uname(&u);
  j_key(j, "machine");
  j_open(j, '{');
  kv_text(j, "arch", u.machine);
  kv_text(j, "kernel", u.release);
  kv_text(j, "kernel_version", u.version);
  file_value("/proc/cpuinfo", "model name", buf, sizeof buf);
  if (!buf[0]) file_value("/proc/cpuinfo", "processor 0", buf, sizeof buf); /* s390x */
  if (!buf[0]) file_value("/proc/cpuinfo", "CPU part", buf, sizeof buf);    /* arm64 */
  kv_text(j, "cpu_model", buf);
  file_value("/proc/cpuinfo", "vendor_id", buf, sizeof buf);
  if (!buf[0]) file_value("/proc/cpuinfo", "CPU implementer", buf, sizeof buf);
  kv_text(j, "cpu_vendor", buf);
  kv_int(j, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
  int64_t cpus[MAX_CPUS];
  for (int i = 0; i < g_ncpu; i++) cpus[i] = g_cpus[i];
  kv_ints(j, "cpus_allowed", cpus, (size_t)g_ncpu);

  /* Hypervisor: every sign found, then the verdict from the most specific. */
  j_key(j, "hypervisor_evidence");
  j_open(j, '{');
  char verdict[128] = "none seen";
  cpuid_hypervisor(hv);
  if (hv[0]) {
    kv_text(j, "cpuid_signature", hv);
    const char *name = strcmp(hv, "KVMKVMKVM") == 0     ? "KVM"
                       : strcmp(hv, "Microsoft Hv") == 0 ? "Hyper-V"
                       : strcmp(hv, "VMwareVMware") == 0 ? "VMware"
                       : strcmp(hv, "XenVMMXenVMM") == 0 ? "Xen"
                       : strcmp(hv, "TCGTCGTCGTCG") == 0 ? "QEMU TCG (no hypervisor: emulation)"
                       : strcmp(hv, "bhyve bhyve ") == 0 ? "bhyve"
                                                           : hv;
    snprintf(verdict, sizeof verdict, "%s", name);
  }
  klog_hypervisor(buf, sizeof buf);
  if (buf[0]) { kv_text(j, "kernel_log_hypervisor", buf); snprintf(verdict, sizeof verdict, "%.100s", buf); }
  file_value("/proc/sysinfo", "VM00 Control Program", buf, sizeof buf); /* s390x */
  if (buf[0]) {
    /* STSI 3.2.2's control program: "z/VM" under z/VM; "KVM/Linux" under KVM, and under QEMU's TCG,
     * which reports the same (its LPAR name then reads "QEMU"). */
    kv_text(j, "sysinfo_vm00_control_program", buf);
    if (strncmp(buf, "KVM", 3) == 0) snprintf(verdict, sizeof verdict, "KVM or QEMU TCG (%.100s)", buf);
    else snprintf(verdict, sizeof verdict, "%.100s", buf);
  }
  char lpar[256];
  file_value("/proc/sysinfo", "LPAR Name", lpar, sizeof lpar);
  if (lpar[0]) {
    kv_text(j, "sysinfo_lpar_name", lpar);
    file_value("/proc/sysinfo", "LPAR CPUs Shared", buf, sizeof buf);
    kv_text(j, "sysinfo_lpar_cpus_shared", buf);
    file_value("/proc/sysinfo", "LPAR CPUs Dedicated", buf, sizeof buf);
    kv_text(j, "sysinfo_lpar_cpus_dedicated", buf);
    if (strcmp(verdict, "none seen") == 0) snprintf(verdict, sizeof verdict, "LPAR");
  }
  file_line("/sys/hypervisor/type", buf, sizeof buf);
  if (buf[0]) { kv_text(j, "sys_hypervisor_type", buf); if (strcmp(verdict, "none seen") == 0) snprintf(verdict, sizeof verdict, "%.100s", buf); }
  file_line("/proc/device-tree/hypervisor/compatible", buf, sizeof buf); /* arm64 */
  if (buf[0]) { kv_text(j, "device_tree_hypervisor", buf); if (strcmp(verdict, "none seen") == 0) snprintf(verdict, sizeof verdict, "%.100s", buf); }
  file_line("/sys/class/dmi/id/product_name", buf, sizeof buf);
  if (buf[0]) kv_text(j, "dmi_product_name", buf);
  file_line("/sys/class/dmi/id/sys_vendor", buf, sizeof buf);
  if (buf[0]) kv_text(j, "dmi_sys_vendor", buf);
  file_value("/proc/cpuinfo", "flags", buf, sizeof buf);
  int flag = strstr(buf, " hypervisor") != NULL;
  kv_bool(j, "cpuinfo_hypervisor_flag", flag);
  file_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf, sizeof buf);
  if (strcmp(verdict, "none seen") == 0 && strcmp(buf, "kvm-clock") == 0) snprintf(verdict, sizeof verdict, "KVM");
  if (strcmp(verdict, "none seen") == 0 && flag) snprintf(verdict, sizeof verdict, "unknown (cpuinfo says a hypervisor)");
  j_close(j, '}');
  kv_text(j, "hypervisor", verdict);
  file_line("/proc/cmdline", buf, sizeof buf);
  kv_text(j, "cmdline", buf);
  file_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf);
  kv_text(j, "transparent_hugepage", buf);
  emit_kernel_config(j, u.release);
  j_close(j, '}');
}

static void emit_irq_delta(json *j, const irq_table *a, const irq_table *b) {
  j_key(j, "interrupts");
  j_open(j, '{');
  for (int i = 0; i < b->n; i++) {
    const irq_line *lb = &b->line[i], *la = NULL;
    for (int k = 0; k < a->n && !la; k++)
      if (strcmp(a->line[k].label, lb->label) == 0) la = &a->line[k];
    int64_t d[MAX_CPUS], any = 0;
    for (int c = 0; c < b->ncpu; c++) any |= d[c] = lb->count[c] - (la ? la->count[c] : 0);
    if (!any) continue;
    j_key(j, lb->label);
    j_open(j, '{');
    kv_text(j, "desc", lb->desc);
    kv_ints(j, "delta", d, (size_t)b->ncpu);
    j_close(j, '}');
  }
  j_close(j, '}');
}

static void emit_steal(json *j, const cpu_stat *a, const cpu_stat *b) {
  int64_t d[MAX_CPUS];
  int n = 0;
  for (int c = 0; c < MAX_CPUS; c++)
    if (b->present[c]) n = c + 1;
  for (int c = 0; c < n; c++) d[c] = b->field[c][7] - a->field[c][7];
  kv_ints(j, "steal_ticks", d, (size_t)n);
}

/* ---- part 1: stalls ---- */

static void emit_gaps(json *j, const gaps *g, double seconds) {
  j_open(j, '{');
  kv_int(j, "cpu", g->cpu);
  kv_bool(j, "pinned", g->pinned);
  kv_num(j, "seconds", seconds);
  kv_int(j, "spun_ns", g->spun_ns);
  kv_int(j, "clock_reads", g->reads);
  kv_int(j, "min_read_ns", g->min_read == INT64_MAX ? 0 : g->min_read);
  kv_int(j, "gaps", (int64_t)g->n + g->dropped);
  kv_int(j, "gaps_not_listed", g->dropped);
  kv_int(j, "gap_ns", g->gap_ns);
  kv_ints(j, "start_ns", g->start, g->n);
  kv_ints(j, "len_ns", g->len, g->n);
}

typedef struct {
  gaps g;
  int64_t origin, until, threshold;
  pthread_barrier_t *barrier;
} spin_job;

static void *spin_thread(void *arg) {
  spin_job *s = arg;
  s->g.pinned = pin_to(s->g.cpu);
  pthread_barrier_wait(s->barrier);
  spin_gaps(&s->g, s->origin, s->until, s->threshold);
  return NULL;
}

static void part_stalls(json *j, const settings *st) {
  const size_t cap = 1000000;
  j_key(j, "stalls");
  j_open(j, '{');
  kv_int(j, "threshold_ns", st->threshold_ns);
  j_key(j, "alone");
  j_open(j, '[');
  for (int i = 0; i < g_ncpu && !g_stop; i++) {
    progress("stalls: CPU %d alone, %g s", g_cpus[i], st->stall_s);
    gaps g;
    gaps_init(&g, g_cpus[i], cap);
    g.pinned = pin_to(g.cpu);
    cpu_stat *a = xcalloc(2, sizeof(cpu_stat));
    irq_table ia = read_interrupts();
    read_stat(&a[0]);
    int64_t origin = now_ns();
    spin_gaps(&g, origin, origin + (int64_t)(st->stall_s * 1e9), st->threshold_ns);
    read_stat(&a[1]);
    irq_table ib = read_interrupts();
    emit_gaps(j, &g, st->stall_s);
    emit_steal(j, &a[0], &a[1]);
    emit_irq_delta(j, &ia, &ib);
    j_close(j, '}');
    free(g.start), free(g.len), free(a), free(ia.line), free(ib.line);
  }
  j_close(j, ']');
  if (!g_stop && g_ncpu > 1) {
    progress("stalls: all %d CPUs at once, %g s", g_ncpu, st->stall_s);
    spin_job *jobs = xcalloc((size_t)g_ncpu, sizeof(spin_job));
    pthread_t *tid = xcalloc((size_t)g_ncpu, sizeof(pthread_t));
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)g_ncpu + 1);
    cpu_stat *a = xcalloc(2, sizeof(cpu_stat));
    irq_table ia = read_interrupts();
    read_stat(&a[0]);
    int64_t origin = now_ns() + 20000000; /* 20 ms for the threads to start and pin */
    for (int i = 0; i < g_ncpu; i++) {
      gaps_init(&jobs[i].g, g_cpus[i], cap);
      jobs[i].origin = origin;
      jobs[i].until = origin + (int64_t)(st->stall_s * 1e9);
      jobs[i].threshold = st->threshold_ns;
      jobs[i].barrier = &barrier;
      if (pthread_create(&tid[i], NULL, spin_thread, &jobs[i])) die("cannot start a thread");
    }
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < g_ncpu; i++) pthread_join(tid[i], NULL);
    read_stat(&a[1]);
    irq_table ib = read_interrupts();
    j_key(j, "together");
    j_open(j, '{');
    kv_text(j, "origin", "start_ns counts from one instant for every CPU");
    emit_steal(j, &a[0], &a[1]);
    emit_irq_delta(j, &ia, &ib);
    j_key(j, "cpus");
    j_open(j, '[');
    for (int i = 0; i < g_ncpu; i++) {
      emit_gaps(j, &jobs[i].g, st->stall_s);
      j_close(j, '}');
      free(jobs[i].g.start), free(jobs[i].g.len);
    }
    j_close(j, ']');
    j_close(j, '}');
    pthread_barrier_destroy(&barrier);
    free(jobs), free(tid), free(a), free(ia.line), free(ib.line);
  }
  j_close(j, '}');
}

/* ---- part 2: the kernel paths ---- */

static _Atomic int g_spin;
static int g_spin_cpu;
static int64_t g_spin_threshold;
static series g_spin_gaps;
static int64_t g_spin_ns;

/* A second thread of the mm, running on another CPU: the mm's cpumask then holds that CPU, so a
 * zap of a present PTE flushes it there (an IPI, or a paravirtual flush). It spins on the clock
 * and keeps the length of every gap above the threshold: what each flush costs the target, where
 * the flush leaves no trace in /proc/interrupts (a hypervisor's remote flush holds the target in
 * the host). */
static void *mm_spinner(void *arg) {
  (void)arg;
  pin_to(g_spin_cpu);
  int64_t prev = now_ns(), first = prev;
  while (atomic_load_explicit(&g_spin, memory_order_relaxed)) {
    int64_t t = now_ns();
    if (t - prev > g_spin_threshold) series_add(&g_spin_gaps, t - prev);
    prev = t;
  }
  g_spin_ns = prev - first;
  return NULL;
}

static int madvise_series(json *j, const char *name, const settings *st, int with_spinner) {
  long ps = sysconf(_SC_PAGESIZE);
  volatile char *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap of one anonymous page failed: %s", strerror(errno));
  pthread_t tid;
  series_init(&g_spin_gaps, with_spinner ? st->samples : 0);
  g_spin_threshold = st->threshold_ns;
  if (with_spinner) {
    atomic_store(&g_spin, 1);
    if (pthread_create(&tid, NULL, mm_spinner, NULL)) die("cannot start a thread");
    usleep(20000);
  }
  series present, empty, fault;
  series_init(&present, st->samples), series_init(&empty, st->samples), series_init(&fault, st->samples);
  irq_table ia = read_interrupts();
  int err = 0;
  p[0] = 1;
  int64_t begin = now_ns(), until = begin + (int64_t)(st->path_s * 1e9), t3 = begin;
  while (t3 < until && !g_stop) {
    int64_t t0 = now_ns();
    err |= madvise((void *)p, (size_t)ps, MADV_DONTNEED); /* zap a present PTE */
    int64_t t1 = now_ns();
    err |= madvise((void *)p, (size_t)ps, MADV_DONTNEED); /* the PTE is now empty */
    int64_t t2 = now_ns();
    p[0] = 1; /* write fault: a fresh zeroed page */
    t3 = now_ns();
    series_add(&present, t1 - t0), series_add(&empty, t2 - t1), series_add(&fault, t3 - t2);
  }
  irq_table ib = read_interrupts();
  if (with_spinner) {
    atomic_store(&g_spin, 0);
    pthread_join(tid, NULL);
  }
  j_key(j, name);
  j_open(j, '{');
  kv_bool(j, "second_thread_running", with_spinner);
  kv_num(j, "seconds", (double)(t3 - begin) / 1e9);
  if (err) kv_text(j, "error", "madvise(MADV_DONTNEED) failed");
  emit_series(j, "madvise_present_ns", &present);
  emit_series(j, "madvise_empty_ns", &empty);
  emit_series(j, "write_fault_ns", &fault);
  if (with_spinner) {
    kv_int(j, "second_cpu_spun_ns", g_spin_ns);
    emit_series(j, "second_cpu_gap_ns", &g_spin_gaps);
  }
  emit_irq_delta(j, &ia, &ib);
  j_close(j, '}');
  munmap((void *)p, (size_t)ps);
  free(present.sample), free(empty.sample), free(fault.sample), free(g_spin_gaps.sample), free(ia.line), free(ib.line);
  return !err;
}

/* The two loops of LTP's dirtyc0w_child, together, each pinned (models/mm/madvise_dontneed.yaml and
 * proc_mem_write_*.yaml are the model's): madvise(map, 100, MADV_DONTNEED) of a private read-only
 * mapping of a file, and lseek + write("m00000000000000000", 18) through /proc/self/mem, which
 * writes with FOLL_FORCE into a COW copy of the page. */
typedef struct {
  char *map;
  int64_t until;
  int cpu, pinned, errors, first_errno;
  series times;
} loop_job;

static void *madvise_loop(void *arg) {
  loop_job *l = arg;
  l->pinned = pin_to(l->cpu);
  for (int64_t t1 = now_ns(); t1 < l->until && !g_stop;) {
    int64_t t0 = now_ns();
    if (madvise(l->map, 100, MADV_DONTNEED) && !l->errors++) l->first_errno = errno;
    t1 = now_ns();
    series_add(&l->times, t1 - t0);
  }
  return NULL;
}

static void *write_loop(void *arg) {
  loop_job *l = arg;
  static const char str[] = "m00000000000000000";
  l->pinned = pin_to(l->cpu);
  int fd = open("/proc/self/mem", O_RDWR);
  if (fd < 0) { l->errors = 1, l->first_errno = errno; return NULL; }
  for (int64_t t1 = now_ns(); t1 < l->until && !g_stop;) {
    int64_t t0 = now_ns();
    lseek(fd, (off_t)(uintptr_t)l->map, SEEK_SET);
    if (write(fd, str, sizeof str - 1) != (ssize_t)(sizeof str - 1) && !l->errors++) l->first_errno = errno;
    t1 = now_ns();
    series_add(&l->times, t1 - t0);
  }
  close(fd);
  return NULL;
}

/* A one-page file of 'a's in --dir, opened read-only and unlinked, mapped private and read-only
 * (the mapping dirtyc0w writes to); its descriptor in *fd, the page's contents in *page. */
static char *private_file_page(const settings *st, int *fd, char **page) {
  long ps = sysconf(_SC_PAGESIZE);
  char path[4096];
  snprintf(path, sizeof path, "%s/racewin-probe-XXXXXX", st->dir);
  int wfd = mkstemp(path);
  if (wfd < 0) die("--dir %s: cannot create a file there: %s", st->dir, strerror(errno));
  *page = xcalloc((size_t)ps, 1);
  memset(*page, 'a', (size_t)ps);
  if (write(wfd, *page, (size_t)ps) != ps) die("cannot write %s: %s", path, strerror(errno));
  close(wfd);
  *fd = open(path, O_RDONLY);
  unlink(path);
  char *map = *fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)ps, PROT_READ, MAP_PRIVATE, *fd, 0);
  if (map == MAP_FAILED) die("cannot map %s read-only: %s", path, strerror(errno));
  return map;
}

static void dirtyc0w_loops(json *j, const settings *st) {
  long ps = sysconf(_SC_PAGESIZE);
  int fd;
  char *page;
  char *map = private_file_page(st, &fd, &page);
  loop_job l[2];
  memset(l, 0, sizeof l);
  pthread_t tid[2];
  int64_t begin = now_ns();
  for (int i = 0; i < 2; i++) {
    l[i].map = map;
    l[i].until = begin + (int64_t)(st->path_s * 1e9);
    l[i].cpu = i ? st->cpu_b : st->cpu_a;
    series_init(&l[i].times, st->samples);
    if (pthread_create(&tid[i], NULL, i ? write_loop : madvise_loop, &l[i])) die("cannot start a thread");
  }
  for (int i = 0; i < 2; i++) pthread_join(tid[i], NULL);
  double seconds = (double)(now_ns() - begin) / 1e9;
  char *check = xcalloc((size_t)ps, 1);
  int unchanged = pread(fd, check, (size_t)ps, 0) == ps && memcmp(check, page, (size_t)ps) == 0;
  j_key(j, "dirtyc0w_child");
  j_open(j, '{');
  kv_num(j, "seconds", seconds);
  kv_bool(j, "file_unchanged", unchanged);
  const char *names[2] = {"madvise_loop", "write_loop"};
  for (int i = 0; i < 2; i++) {
    j_key(j, names[i]);
    j_open(j, '{');
    kv_int(j, "cpu", l[i].cpu);
    kv_bool(j, "pinned", l[i].pinned);
    kv_num(j, "iterations_per_s", (double)l[i].times.count / seconds);
    kv_int(j, "errors", l[i].errors);
    if (l[i].errors) kv_text(j, "first_error", strerror(l[i].first_errno));
    emit_series(j, "iteration_ns", &l[i].times);
    j_close(j, '}');
    free(l[i].times.sample);
  }
  j_close(j, '}');
  munmap(map, (size_t)ps);
  close(fd);
  free(page), free(check);
}

/* The writer's loop alone (no madvise): after its first write has broken COW, each write finds
 * the page present, so this is the /proc/self/mem write's own cost, the part the two loops
 * together cannot separate from their contention. */
static void write_alone(json *j, const settings *st) {
  long ps = sysconf(_SC_PAGESIZE);
  int fd;
  char *page;
  char *map = private_file_page(st, &fd, &page);
  loop_job l;
  memset(&l, 0, sizeof l);
  l.map = map;
  l.cpu = st->cpu_a;
  int64_t begin = now_ns();
  l.until = begin + (int64_t)(st->path_s * 1e9);
  series_init(&l.times, st->samples);
  write_loop(&l);
  double seconds = (double)(now_ns() - begin) / 1e9;
  j_key(j, "write_alone");
  j_open(j, '{');
  kv_num(j, "seconds", seconds);
  kv_int(j, "cpu", l.cpu);
  kv_bool(j, "pinned", l.pinned);
  kv_num(j, "iterations_per_s", (double)l.times.count / seconds);
  kv_int(j, "errors", l.errors);
  if (l.errors) kv_text(j, "first_error", strerror(l.first_errno));
  emit_series(j, "iteration_ns", &l.times);
  j_close(j, '}');
  free(l.times.sample);
  munmap(map, (size_t)ps);
  close(fd);
  free(page);
}

static void part_paths(json *j, const settings *st) {
  j_key(j, "paths");
  j_open(j, '{');
  kv_int(j, "page_size", sysconf(_SC_PAGESIZE));
  kv_int(j, "cpu", st->cpu_a);
  kv_int(j, "second_cpu", st->cpu_b);
  pin_to(st->cpu_a);
  progress("paths: madvise and the fault, one thread, %g s", st->path_s);
  madvise_series(j, "alone", st, 0);
  if (!g_stop && st->cpu_b != st->cpu_a) {
    progress("paths: madvise and the fault, a second thread on CPU %d, %g s", st->cpu_b, st->path_s);
    g_spin_cpu = st->cpu_b;
    madvise_series(j, "with_shootdown", st, 1);
  }
  if (!g_stop) {
    progress("paths: the /proc/self/mem write loop alone, %g s", st->path_s);
    write_alone(j, st);
  }
  if (!g_stop && st->cpu_b != st->cpu_a) {
    progress("paths: the two dirtyc0w_child loops together, %g s", st->path_s);
    dirtyc0w_loops(j, st);
  }
  j_close(j, '}');
}

/* ---- part 3: a race of known window ---- */

typedef struct {
  int64_t window_ns, gap_ns, closed_ns; /* W, G and the opener's time between windows */
  int64_t origin, until, long_ns;
  size_t max_windows;
  _Atomic uint64_t seq; /* odd while a window is open: window k is 2k+1 */
  _Atomic int done;
  unsigned char *hit;   /* bit k: the checker saw window k open */
  pthread_barrier_t barrier;
  series length;
  int64_t *long_start, *long_len, *long_index;
  size_t nlong, cap_long;
  int64_t windows, long_not_listed, checks, open_checks, checker_ns, opener_ns;
  int opener_cpu, checker_cpu, opener_pinned, checker_pinned;
} race;

static void *opener(void *arg) {
  race *r = arg;
  uint64_t w = loops_for(r->window_ns), c = loops_for(r->closed_ns);
  r->opener_pinned = pin_to(r->opener_cpu);
  pthread_barrier_wait(&r->barrier);
  size_t k = 0;
  int64_t begin = now_ns(), t1 = begin;
  for (; k < r->max_windows && t1 < r->until && !g_stop; k++) {
    int64_t t0 = now_ns();
    atomic_store_explicit(&r->seq, 2 * (uint64_t)k + 1, memory_order_release); /* open */
    work(w);
    atomic_store_explicit(&r->seq, 2 * (uint64_t)k + 2, memory_order_release); /* close */
    t1 = now_ns();
    series_add(&r->length, t1 - t0);
    if (t1 - t0 > r->long_ns) {
      if (r->nlong < r->cap_long) {
        r->long_start[r->nlong] = t0 - r->origin;
        r->long_len[r->nlong] = t1 - t0;
        r->long_index[r->nlong++] = (int64_t)k;
      } else {
        r->long_not_listed++;
      }
    }
    work(c);
  }
  r->opener_ns = now_ns() - begin;
  r->windows = (int64_t)k;
  atomic_store(&r->done, 1);
  return NULL;
}

static void *checker(void *arg) {
  race *r = arg;
  uint64_t g = loops_for(r->gap_ns);
  r->checker_pinned = pin_to(r->checker_cpu);
  pthread_barrier_wait(&r->barrier);
  int64_t t0 = now_ns();
  while (!atomic_load_explicit(&r->done, memory_order_relaxed)) {
    uint64_t s = atomic_load_explicit(&r->seq, memory_order_acquire);
    r->checks++;
    if (s & 1) {
      uint64_t k = s >> 1;
      r->open_checks++;
      if (k < r->max_windows) r->hit[k >> 3] |= (unsigned char)(1u << (k & 7));
    }
    work(g);
  }
  r->checker_ns = now_ns() - t0;
  return NULL;
}

static void run_race(json *j, const settings *st, int64_t w, int64_t g, int64_t c) {
  race *r = xcalloc(1, sizeof(race));
  r->window_ns = w, r->gap_ns = g, r->closed_ns = c;
  r->opener_cpu = st->cpu_a, r->checker_cpu = st->cpu_b;
  r->long_ns = w + st->threshold_ns;
  double per_window = (double)(w + c) > 20.0 ? (double)(w + c) : 20.0;
  r->max_windows = (size_t)(st->race_s * 1e9 / per_window) + 1024;
  r->hit = xcalloc(r->max_windows / 8 + 1, 1);
  r->cap_long = st->samples;
  r->long_start = xcalloc(r->cap_long, sizeof(int64_t));
  r->long_len = xcalloc(r->cap_long, sizeof(int64_t));
  r->long_index = xcalloc(r->cap_long, sizeof(int64_t));
  series_init(&r->length, st->samples);
  pthread_barrier_init(&r->barrier, NULL, 2);
  r->origin = now_ns();
  r->until = r->origin + 20000000 + (int64_t)(st->race_s * 1e9);
  pthread_t to, tc;
  if (pthread_create(&tc, NULL, checker, r) || pthread_create(&to, NULL, opener, r)) die("cannot start a thread");
  pthread_join(to, NULL);
  pthread_join(tc, NULL);
  int64_t hits = 0, long_hits = 0;
  for (int64_t k = 0; k < r->windows; k++) hits += (r->hit[k >> 3] >> (k & 7)) & 1;
  int64_t *long_hit = xcalloc(r->nlong, sizeof(int64_t));
  for (size_t i = 0; i < r->nlong; i++) {
    int64_t k = r->long_index[i];
    long_hits += long_hit[i] = (r->hit[k >> 3] >> (k & 7)) & 1;
  }
  j_open(j, '{');
  kv_int(j, "window_ns", w);
  kv_int(j, "check_gap_ns", g);
  kv_int(j, "closed_ns", c);
  kv_bool(j, "pinned", r->opener_pinned && r->checker_pinned);
  kv_int(j, "windows", r->windows);
  kv_int(j, "hits", hits);
  kv_num(j, "p_hit", r->windows ? (double)hits / (double)r->windows : 0.0);
  kv_int(j, "checks", r->checks);
  kv_int(j, "checks_in_open_window", r->open_checks);
  kv_num(j, "check_period_ns", r->checks ? (double)r->checker_ns / (double)r->checks : 0.0);
  kv_int(j, "opener_ns", r->opener_ns);
  emit_series(j, "window_length_ns", &r->length);
  kv_int(j, "long_window_ns", r->long_ns);
  kv_int(j, "long_windows", (int64_t)r->nlong + r->long_not_listed);
  kv_int(j, "long_windows_not_listed", r->long_not_listed);
  kv_int(j, "long_windows_hit", long_hits);
  kv_ints(j, "long_start_ns", r->long_start, r->nlong);
  kv_ints(j, "long_len_ns", r->long_len, r->nlong);
  kv_ints(j, "long_hit", long_hit, r->nlong);
  j_close(j, '}');
  pthread_barrier_destroy(&r->barrier);
  free(r->hit), free(r->long_start), free(r->long_len), free(r->long_index), free(long_hit);
  free(r->length.sample), free(r);
}

/* ---- wakeup: how late a sleeping thread wakes ----
 * A thread pinned to CPU A sleeps for a fixed time (clock_nanosleep, relative, timer slack 1 ns)
 * again and again and records how much longer each sleep took than asked. Between, the CPU is idle:
 * on a VM its vCPU halts (x86 HLT, s390 an enabled wait for the clock comparator) and the
 * hypervisor has to wake it when the timer is due. That is what s390's udelay() pays (it waits for
 * the clock comparator too) and any halted vCPU's wake-up; a sleep adds the scheduler's wake-up of
 * the thread, so it is an upper bound on the halt's own part. */
static void part_wakeup(json *j, const settings *st) {
  int pinned = pin_to(st->cpu_a); /* the last part: the main thread may stay there */
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* the default 50 us slack would be most of it */
  series late;
  series_init(&late, st->samples);
  progress("wakeup: sleeping %lld ns at a time on CPU %d for %.1f s", (long long)st->sleep_ns, st->cpu_a, st->wakeup_s);
  int64_t end = now_ns() + (int64_t)(st->wakeup_s * 1e9);
  while (!g_stop && now_ns() < end) {
    struct timespec ts = {(time_t)(st->sleep_ns / 1000000000), (long)(st->sleep_ns % 1000000000)};
    int64_t t0 = now_ns();
    if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) != 0) continue; /* a signal: not a full sleep */
    int64_t over = now_ns() - t0 - st->sleep_ns;
    series_add(&late, over > 0 ? over : 0);
  }
  j_key(j, "wakeup");
  j_open(j, '{');
  kv_int(j, "cpu", st->cpu_a);
  kv_bool(j, "pinned", pinned);
  kv_int(j, "sleep_ns", st->sleep_ns);
  emit_series(j, "late", &late);
  j_close(j, '}');
}

static void part_race(json *j, const settings *st) {
  j_key(j, "race");
  j_open(j, '{');
  kv_int(j, "opener_cpu", st->cpu_a);
  kv_int(j, "checker_cpu", st->cpu_b);
  j_key(j, "runs");
  j_open(j, '[');
  char list[256];
  snprintf(list, sizeof list, "%s", st->races);
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !g_stop; tok = strtok_r(NULL, ",", &save)) {
    long long w = 0, g = 0, c = 1000;
    sscanf(tok, "%lld:%lld:%lld", &w, &g, &c);
    progress("race: window %lld ns, checks every %lld ns, %g s", w, g, st->race_s);
    run_race(j, st, w, g, c);
  }
  j_close(j, ']');
  j_close(j, '}');
}

/* ---- the command line ---- */

static const char usage[] =
    "usage: racewin-probe [-o FILE] [options]\n"
    "Measures this machine for racewin (stalls, the study's kernel paths, a race of known window)\n"
    "and writes one JSON file (docs/probe.md). About 95 s on 2 CPUs with the defaults.\n"
    "  -o, --out FILE          where to write (default racewin-probe.json; - for standard output)\n"
    "      --name TEXT         what to call this machine in the file (e.g. kvm-epyc-lightly-loaded)\n"
    "      --parts LIST        of stalls,paths,race,wakeup (default stalls,paths,race)\n"
    "      --stall-seconds S   spin per CPU alone, and all CPUs at once (default 20)\n"
    "      --path-seconds S    each of: madvise alone, with a shootdown, the writer alone, the two\n"
    "                          loops together (default 4)\n"
    "      --race-seconds S    each race (default 5)\n"
    "      --wakeup-seconds S  sleep and wake again and again on CPU A (default 5)\n"
    "      --sleep NS          each sleep of the wakeup part (default 50000)\n"
    "      --race LIST         races W:G[:C] in ns: window W, a check every G, C between windows\n"
    "                          (default 1000:10000,200:50000,5000:1000; C defaults to 1000)\n"
    "      --threshold NS      a gap longer than this is a stall (default 1000)\n"
    "      --samples N         raw values kept per timed series (default 5000; all are counted)\n"
    "      --cpus A,B          the two CPUs of the paired parts (default the first two allowed)\n"
    "      --dir DIR           where the loops' one-page file is made (default $TMPDIR or /tmp)\n"
    "      --quick             0.2 s per part: checks that it runs, measures nothing worth keeping\n"
    "  -q, --quiet             no progress on standard error\n";

static double parse_seconds(const char *opt, const char *v) {
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || !(d > 0) || d > 86400) die("%s %s: expected seconds, a number above 0 and at most 86400", opt, v);
  return d;
}

static int64_t parse_int(const char *opt, const char *v, int64_t lo, int64_t hi) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || *end || errno || n < lo || n > hi) die("%s %s: expected a whole number from %lld to %lld", opt, v, (long long)lo, (long long)hi);
  return n;
}

static void check_races(const char *list) {
  char copy[256];
  if (strlen(list) >= sizeof copy) die("--race: at most %zu characters", sizeof copy - 1);
  snprintf(copy, sizeof copy, "%s", list);
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    long long w, g, c = 1000;
    char extra;
    int n = sscanf(tok, "%lld:%lld:%lld%c", &w, &g, &c, &extra);
    if ((n != 2 && n != 3) || w < 1 || g < 0 || c < 0 || w > 100000000 || g > 100000000 || c > 100000000)
      die("--race %s: expected W:G or W:G:C, whole nanoseconds (W from 1, G and C from 0, each at most 1e8)", tok);
  }
}

int main(int argc, char **argv) {
  settings st = {.out = "racewin-probe.json", .name = "", .parts = "stalls,paths,race", .stall_s = 20,
                 .path_s = 4, .race_s = 5, .wakeup_s = 5, .sleep_ns = 50000, .threshold_ns = 1000, .samples = 5000, .cpu_a = -1, .cpu_b = -1};
  snprintf(st.races, sizeof st.races, "1000:10000,200:50000,5000:1000");
  st.dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char command[2048] = "racewin-probe";
  for (int i = 1; i < argc; i++) {
    size_t len = strlen(command);
    snprintf(command + len, sizeof command - len, " %s", argv[i]);
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VALUE() (v ? (i++, v) : (die("%s: expected a value after it", a), ""))
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); return 0; }
    else if (!strcmp(a, "--version")) { printf("racewin-probe %s (%s)\n", PROBE_VERSION, FORMAT); return 0; }
    else if (!strcmp(a, "-o") || !strcmp(a, "--out")) st.out = VALUE();
    else if (!strcmp(a, "--name")) st.name = VALUE();
    else if (!strcmp(a, "--parts")) st.parts = VALUE();
    else if (!strcmp(a, "--stall-seconds")) st.stall_s = parse_seconds(a, VALUE());
    else if (!strcmp(a, "--path-seconds")) st.path_s = parse_seconds(a, VALUE());
    else if (!strcmp(a, "--race-seconds")) st.race_s = parse_seconds(a, VALUE());
    else if (!strcmp(a, "--wakeup-seconds")) st.wakeup_s = parse_seconds(a, VALUE());
    else if (!strcmp(a, "--sleep")) st.sleep_ns = parse_int(a, VALUE(), 1, 1000000000);
    else if (!strcmp(a, "--race")) { const char *r = VALUE(); check_races(r); snprintf(st.races, sizeof st.races, "%s", r); }
    else if (!strcmp(a, "--threshold")) st.threshold_ns = parse_int(a, VALUE(), 1, 1000000000);
    else if (!strcmp(a, "--samples")) st.samples = (size_t)parse_int(a, VALUE(), 0, 10000000);
    else if (!strcmp(a, "--dir")) st.dir = VALUE();
    else if (!strcmp(a, "--quick")) st.stall_s = st.path_s = st.race_s = st.wakeup_s = 0.2;
    else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) g_quiet = 1;
    else if (!strcmp(a, "--cpus")) {
      const char *c = VALUE();
      char extra;
      if (sscanf(c, "%d,%d%c", &st.cpu_a, &st.cpu_b, &extra) != 2 || st.cpu_a < 0 || st.cpu_b < 0 ||
          st.cpu_a >= MAX_CPUS || st.cpu_b >= MAX_CPUS || st.cpu_a == st.cpu_b)
        die("--cpus %s: expected two different CPU numbers, A,B", c);
    } else die("%s: not an option (racewin-probe --help lists them)", a);
#undef VALUE
  }
  for (const char *p = st.parts; *p;) {
    size_t k = strcspn(p, ",");
    if (!((k == 6 && !strncmp(p, "stalls", 6)) || (k == 5 && !strncmp(p, "paths", 5)) || (k == 4 && !strncmp(p, "race", 4)) ||
          (k == 6 && !strncmp(p, "wakeup", 6))))
      die("--parts %s: expected a comma-separated list of stalls, paths, race, wakeup", st.parts);
    p += k + (p[k] == ',');
  }
  allowed_cpus();
  if (st.cpu_a < 0) st.cpu_a = g_cpus[0], st.cpu_b = g_ncpu > 1 ? g_cpus[1] : g_cpus[0];
  int paired = st.cpu_a != st.cpu_b;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C ends it at once */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  char tmp[4096];
  FILE *f = stdout;
  if (strcmp(st.out, "-") != 0) {
    snprintf(tmp, sizeof tmp, "%s.part", st.out);
    f = fopen(tmp, "w");
    if (!f) die("--out %s: cannot write %s: %s", st.out, tmp, strerror(errno));
  }
  json j = {f, 0, {1}, 0};
  calibrate_work();
  time_t t = time(NULL);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  struct timespec res;
  clock_getres(CLOCK_MONOTONIC, &res);

  j_open(&j, '{');
  kv_text(&j, "format", FORMAT);
  kv_text(&j, "probe_version", PROBE_VERSION);
  kv_text(&j, "date", date);
  kv_text(&j, "name", st.name);
  kv_text(&j, "command", command);
  j_key(&j, "settings");
  j_open(&j, '{');
  kv_num(&j, "stall_seconds", st.stall_s);
  kv_num(&j, "path_seconds", st.path_s);
  kv_num(&j, "race_seconds", st.race_s);
  kv_int(&j, "threshold_ns", st.threshold_ns);
  kv_int(&j, "samples", (int64_t)st.samples);
  kv_text(&j, "parts", st.parts);
  kv_text(&j, "races", st.races);
  j_close(&j, '}');
  emit_machine(&j);
  char cs[128];
  file_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", cs, sizeof cs);
  j_key(&j, "clock");
  j_open(&j, '{');
  kv_text(&j, "clocksource", cs);
  kv_int(&j, "resolution_ns", (int64_t)res.tv_sec * 1000000000 + res.tv_nsec);
  int64_t best = INT64_MAX;
  for (int i = 0; i < 100000; i++) {
    int64_t a = now_ns(), b = now_ns();
    if (b - a < best) best = b - a;
  }
  kv_int(&j, "read_ns", best);
  kv_int(&j, "clk_tck", sysconf(_SC_CLK_TCK));
  j_close(&j, '}');
  kv_num(&j, "work_loops_per_ns", g_loops_per_ns);
  char load[128];
  file_line("/proc/loadavg", load, sizeof load); /* a busy machine shows in every figure below */
  kv_text(&j, "loadavg_before", load);
  if (has_part(&st, "stalls")) part_stalls(&j, &st);
  if (has_part(&st, "paths") && !g_stop) part_paths(&j, &st);
  if (has_part(&st, "race") && !g_stop) {
    if (paired) part_race(&j, &st);
    else kv_text(&j, "race", "not run: it needs two CPUs");
  }
  if (has_part(&st, "wakeup") && !g_stop) part_wakeup(&j, &st);
  if (!paired && has_part(&st, "paths")) kv_text(&j, "paths_not_run", "with_shootdown and dirtyc0w_child need two CPUs");
  file_line("/proc/loadavg", load, sizeof load);
  kv_text(&j, "loadavg_after", load);
  kv_bool(&j, "interrupted", g_stop != 0);
  j_close(&j, '}');
  fputc('\n', f);
  if (f != stdout) {
    if (fclose(f) != 0 || rename(tmp, st.out) != 0) die("--out %s: cannot write it: %s", st.out, strerror(errno));
    progress("wrote %s%s", st.out, g_stop ? " (interrupted: the parts measured so far)" : "");
  }
  return g_stop ? 130 : 0;
}
