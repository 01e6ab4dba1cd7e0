/* init: PID 1 of racewin's real-kernel guest (validation/kernel/run.sh). Mounts what the programs
 * need, runs them as the kernel command line asks, and powers the machine off, so that one QEMU
 * run is one measurement whose whole record is the serial console.
 *
 * Kernel command line (read from /proc/cmdline):
 *   racewin.run=probe|dirtyc0w|both   what to run (default dirtyc0w)
 *   racewin.seconds=N                 the reproducer's run time, guest seconds (default 60)
 *   racewin.probe=ARGS                racewin-probe's options, commas for spaces (default none)
 * Console: "racewin-init: ..." lines; the reproducer's own lines; the probe's JSON file as
 * "racewin-probe-json: CHUNK" lines between "racewin-probe-json-begin BYTES" and
 * "racewin-probe-json-end" (the kernel's console level is lowered while the probe runs and is
 * printed, so that no kernel line lands inside it); "racewin-init: done" last.
 * Builds alone: cc -O2 -static -o init init.c */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static char cmdline[4096];

/* The value of racewin.KEY= on the command line, or `def`. */
static const char *param(const char *key, const char *def) {
  static char value[1024];
  char want[64];
  snprintf(want, sizeof want, "racewin.%s=", key);
  const char *p = strstr(cmdline, want);
  if (!p) return def;
  p += strlen(want);
  size_t n = strcspn(p, " \n");
  if (n >= sizeof value) n = sizeof value - 1;
  memcpy(value, p, n);
  value[n] = 0;
  return value;
}

static int run(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    printf("racewin-init: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void probe(void) {
  char args[1024];
  snprintf(args, sizeof args, "%s", param("probe", ""));
  char *argv[64] = {"/racewin-probe", "-q", "-o", "/tmp/probe.json", "--dir", "/tmp", "--name", "qemu-tcg-guest"};
  int argc = 8;
  for (char *tok = strtok(args, ","); tok && argc < 63; tok = strtok(NULL, ",")) argv[argc++] = tok;
  argv[argc] = NULL;
  klogctl(8, NULL, 1); /* SYSLOG_ACTION_CONSOLE_LEVEL: only emergencies while the probe runs */
  int rc = run(argv);
  FILE *f = fopen("/tmp/probe.json", "r");
  if (rc != 0 || !f) {
    klogctl(8, NULL, 7);
    printf("racewin-init: racewin-probe failed (exit %d)\n", rc);
    return;
  }
  struct stat st;
  fstat(fileno(f), &st);
  printf("racewin-probe-json-begin %lld\n", (long long)st.st_size);
  char chunk[513];
  size_t n;
  while ((n = fread(chunk, 1, 512, f)) > 0) {
    for (size_t i = 0; i < n; ++i)
      if (chunk[i] == '\n') chunk[i] = ' '; /* one chunk a line; JSON does not mind the spaces */
    chunk[n] = 0;
    printf("racewin-probe-json: %s\n", chunk);
  }
  fclose(f);
  printf("racewin-probe-json-end\n");
  fflush(stdout);
  klogctl(8, NULL, 7);
}

int main(void) {
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("tmpfs", "/tmp", "tmpfs", 0, "size=64m");
  setvbuf(stdout, NULL, _IOLBF, 0);
  FILE *c = fopen("/proc/cmdline", "r");
  if (c) {
    if (!fgets(cmdline, sizeof cmdline, c)) cmdline[0] = 0;
    fclose(c);
  }
  struct utsname u;
  uname(&u);
  printf("racewin-init: kernel %s %s, %ld CPUs online\n", u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN));
  const char *what = param("run", "dirtyc0w");
  if (!strcmp(what, "probe") || !strcmp(what, "both")) probe();
  if (!strcmp(what, "dirtyc0w") || !strcmp(what, "both")) {
    char seconds[64];
    snprintf(seconds, sizeof seconds, "%s", param("seconds", "60"));
    char *argv[] = {"/dirtyc0w", seconds, "/tmp", NULL};
    int rc = run(argv);
    if (rc) printf("racewin-init: dirtyc0w exited %d\n", rc);
  }
  printf("racewin-init: done\n");
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  reboot(RB_AUTOBOOT); /* no ACPI power-off: QEMU's -no-reboot ends the run instead */
  return 0;
}
