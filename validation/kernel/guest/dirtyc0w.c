/* dirtyc0w: the two loops of LTP's dirtyc0w_child (testcases/kernel/security/dirtyc0w), the
 * reproducer of the September 2020 reports, run for a fixed time in racewin's real-kernel guest.
 *
 * A file of one page on tmpfs, mapped private and read-only. One thread zaps the mapping with
 * madvise(MADV_DONTNEED); the other writes 18 bytes to it through /proc/self/mem (lseek + write),
 * which faults the page in, breaks COW and, on the buggy kernel, may make the PTE writable while
 * the page is still locked (do_wp_page's reuse branch): a zap that frees the page then is the
 * "BUG: Bad page state" the kernel prints. The threads are pinned to CPUs 0 and 1 (the study's
 * two vCPUs); every iteration and every failed call is counted: a run whose madvise fails (a kernel
 * without ADVISE_SYSCALLS) cannot hit the race and is reported as invalid by the parser.
 *
 * Prints "dirtyc0w: t=SECONDS madvise=N write=N" every second of the guest's CLOCK_MONOTONIC and,
 * at the end, one line "dirtyc0w-result: {JSON}". Usage: dirtyc0w SECONDS [DIR]
 * Builds alone: cc -O2 -pthread -static -o dirtyc0w dirtyc0w.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  char *map;
  int cpu;
  atomic_ulong iterations;
  unsigned long errors;
  int first_errno;
} loop;

static atomic_int stop;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set); /* a failure leaves the thread unpinned: still a run */
}

static void failed(loop *l) {
  if (!l->errors++) l->first_errno = errno;
}

static void *madvise_loop(void *arg) {
  loop *l = arg;
  pin(l->cpu);
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (madvise(l->map, 100, MADV_DONTNEED)) failed(l);
    atomic_fetch_add_explicit(&l->iterations, 1, memory_order_relaxed);
  }
  return NULL;
}

static void *write_loop(void *arg) {
  static const char str[] = "m00000000000000000";
  loop *l = arg;
  pin(l->cpu);
  int fd = open("/proc/self/mem", O_RDWR);
  if (fd < 0) {
    failed(l);
    return NULL;
  }
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (lseek(fd, (off_t)(unsigned long)l->map, SEEK_SET) == (off_t)-1 || write(fd, str, sizeof str - 1) < 0) failed(l);
    atomic_fetch_add_explicit(&l->iterations, 1, memory_order_relaxed);
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || atof(argv[1]) <= 0) {
    fprintf(stderr, "usage: dirtyc0w SECONDS [DIR]\n");
    return 2;
  }
  double seconds = atof(argv[1]);
  char path[4096];
  snprintf(path, sizeof path, "%s/dirtyc0w_test", argc > 2 ? argv[2] : "/tmp");
  long ps = sysconf(_SC_PAGESIZE);
  char *page = malloc((size_t)ps);
  memset(page, 'x', (size_t)ps);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0444);
  if (fd < 0 || write(fd, page, (size_t)ps) != ps) {
    perror(path);
    return 1;
  }
  close(fd);
  fd = open(path, O_RDONLY);
  char *map = mmap(NULL, (size_t)ps, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  loop l[2] = {{.map = map, .cpu = 0}, {.map = map, .cpu = 1}};
  pthread_t tid[2];
  double t0 = now();
  for (int i = 0; i < 2; ++i)
    if (pthread_create(&tid[i], NULL, i ? write_loop : madvise_loop, &l[i])) {
      fprintf(stderr, "dirtyc0w: cannot start a thread\n");
      return 1;
    }
  for (double next = t0 + 1;; next += 1) {
    double t = now();
    if (t - t0 >= seconds) break;
    double wait = (next < t0 + seconds ? next : t0 + seconds) - t;
    if (wait > 0) {
      struct timespec d = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
      nanosleep(&d, NULL);
    }
    printf("dirtyc0w: t=%.3f madvise=%lu write=%lu\n", now() - t0, atomic_load(&l[0].iterations), atomic_load(&l[1].iterations));
    fflush(stdout);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; ++i) pthread_join(tid[i], NULL);
  double t1 = now();
  /* The file's contents: the writes go to the private copy, never to the file (Dirty COW, 2016, wrote
   * the file). */
  int changed = 0;
  char *back = malloc((size_t)ps);
  int rfd = open(path, O_RDONLY);
  if (rfd >= 0 && read(rfd, back, (size_t)ps) == ps) changed = memcmp(back, page, (size_t)ps) != 0;
  printf("dirtyc0w-result: {\"start_s\": %.6f, \"seconds\": %.6f, \"madvise\": {\"iterations\": %lu, \"errors\": %lu, \"first_errno\": %d}, "
         "\"write\": {\"iterations\": %lu, \"errors\": %lu, \"first_errno\": %d}, \"file_changed\": %s}\n",
         t0, t1 - t0, atomic_load(&l[0].iterations), l[0].errors, l[0].first_errno, atomic_load(&l[1].iterations), l[1].errors,
         l[1].first_errno, changed ? "true" : "false");
  fflush(stdout);
  return 0;
}
