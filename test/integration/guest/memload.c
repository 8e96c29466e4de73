/*
 * memload: the integration tests' guest memory workload.
 *
 * Keeps a working set of a given size resident by writing to every 4 KiB page of it in a loop, the
 * size following a fixed value or a pattern over time, and prints one line per second:
 *
 *   memload t=<s> size_mib=<n> throughput_mib_s=<x>
 *
 * t is the whole seconds since start, size_mib the current working set, throughput_mib_s the pages
 * written since the previous line, as MiB per second. Built
 * statically (gcc -static -O2) and shipped in the test guests' initramfs.
 *
 * Usage:
 *   memload --mib N                       a fixed working set of N MiB
 *   memload --pattern T:MIB[,T:MIB...]    the size in MiB from time T (seconds) until the next point;
 *                                         the pattern loops (see --period)
 *   options:
 *     --period S     loop length of a pattern (default: the last point's time plus the length of
 *                    the interval before it, so 0:50,20:300,40:100 loops every 60 s; a one-point
 *                    pattern does not loop)
 *     --free         when the size shrinks, give the pages beyond it back to the kernel with
 *                    madvise(MADV_DONTNEED) (otherwise they stay resident, just no longer written)
 *     --same         write identical content to every page (KSM can merge them); by default each
 *                    page gets distinct content so that KSM cannot merge the working set
 *     --duration S   exit after S seconds (default: run until killed)
 *     --quiet        no per-second lines
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)
#define MAX_POINTS 256
/* Pages written between two looks at the clock. */
#define CLOCK_EVERY 64

struct point {
  double t;
  unsigned long mib;
};

static struct point points[MAX_POINTS];
static int npoints;
static double period; /* 0: no loop */
static volatile sig_atomic_t stop;

static void usage(const char *msg) {
  if (msg) fprintf(stderr, "memload: %s\n", msg);
  fprintf(stderr,
          "usage: memload (--mib N | --pattern T:MIB[,T:MIB...]) [--period S] [--free] [--same] "
          "[--duration S] [--quiet]\n");
  exit(2);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double parse_number(const char *s, const char *what) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < 0) {
    fprintf(stderr, "memload: bad %s '%s'\n", what, s);
    exit(2);
  }
  return v;
}

static void parse_pattern(const char *arg) {
  char *copy = strdup(arg);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(tok, ':');
    if (!colon) usage("a pattern point is T:MIB");
    *colon = '\0';
    if (npoints == MAX_POINTS) usage("too many pattern points");
    points[npoints].t = parse_number(tok, "pattern time");
    points[npoints].mib = (unsigned long)parse_number(colon + 1, "pattern size");
    if (npoints > 0 && points[npoints].t <= points[npoints - 1].t)
      usage("pattern times must increase");
    npoints++;
  }
  free(copy);
  if (npoints == 0) usage("empty pattern");
  if (points[0].t != 0) usage("a pattern starts at time 0");
}

/* The target size in MiB at time t (seconds since start). */
static unsigned long target_mib(double t) {
  if (period > 0) t = t - period * (double)(unsigned long)(t / period);
  unsigned long mib = points[0].mib;
  for (int i = 0; i < npoints && points[i].t <= t; i++) mib = points[i].mib;
  return mib;
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  int do_free = 0, same = 0, quiet = 0, have_size = 0;
  double duration = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--mib")) {
      if (!v || have_size) usage("--mib N, once, or --pattern");
      points[0].t = 0;
      points[0].mib = (unsigned long)parse_number(v, "--mib");
      npoints = 1;
      have_size = 1;
      i++;
    } else if (!strcmp(a, "--pattern")) {
      if (!v || have_size) usage("--pattern LIST, once, or --mib");
      parse_pattern(v);
      have_size = 1;
      i++;
    } else if (!strcmp(a, "--period")) {
      if (!v) usage("--period S");
      period = parse_number(v, "--period");
      i++;
    } else if (!strcmp(a, "--duration")) {
      if (!v) usage("--duration S");
      duration = parse_number(v, "--duration");
      i++;
    } else if (!strcmp(a, "--free")) {
      do_free = 1;
    } else if (!strcmp(a, "--same")) {
      same = 1;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(NULL);
    } else {
      fprintf(stderr, "memload: unknown argument '%s'\n", a);
      usage(NULL);
    }
  }
  if (!have_size) usage("--mib or --pattern is required");
  if (period == 0 && npoints > 1) period = 2 * points[npoints - 1].t - points[npoints - 2].t;
  if (period > 0 && period <= points[npoints - 1].t) usage("--period must exceed the last point's time");

  unsigned long max_mib = 0;
  for (int i = 0; i < npoints; i++)
    if (points[i].mib > max_mib) max_mib = points[i].mib;
  size_t region_len = max_mib * MIB;
  unsigned char *region = NULL;
  if (region_len > 0) {
    region = mmap(NULL, region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) {
      perror("memload: mmap");
      return 1;
    }
  }

  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  /* Distinct per run so that two guests running memload do not share pages either. */
  uint64_t seed = ((uint64_t)getpid() << 32) ^ (uint64_t)(now() * 1e6);
  const double start = now();
  double next_report = start + 1;
  double last_report = start;
  unsigned long pages_this_second = 0;
  uint64_t pass = 0;
  size_t cursor = 0;                  /* next page to write */
  unsigned long size_mib = target_mib(0);
  size_t size_pages = size_mib * (MIB / PAGE);
  size_t resident_pages = 0;          /* pages beyond size_pages that may still be resident */

  while (!stop) {
    double t = now();
    if (t >= next_report) {
      double elapsed = t - last_report;
      if (!quiet)
        printf("memload t=%lu size_mib=%lu throughput_mib_s=%.1f\n", (unsigned long)(t - start), size_mib,
               (double)pages_this_second * PAGE / MIB / elapsed);
      pages_this_second = 0;
      last_report = t;
      next_report += 1;
      if (next_report <= t) next_report = t + 1; /* fell behind (the guest was descheduled) */
    }
    if (duration > 0 && t - start >= duration) break;

    unsigned long want = target_mib(t - start);
    if (want != size_mib) {
      size_t want_pages = want * (MIB / PAGE);
      if (want_pages < size_pages) {
        if (size_pages > resident_pages) resident_pages = size_pages;
        if (do_free && resident_pages > want_pages) {
          if (madvise(region + want_pages * PAGE, (resident_pages - want_pages) * PAGE, MADV_DONTNEED) != 0)
            perror("memload: madvise");
          resident_pages = want_pages;
        }
      }
      size_mib = want;
      size_pages = want_pages;
      if (cursor >= size_pages) cursor = 0;
    }

    if (size_pages == 0) {
      double wait = next_report - now();
      if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
      continue;
    }

    for (int n = 0; n < CLOCK_EVERY; n++) {
      uint64_t *p = (uint64_t *)(region + cursor * PAGE);
      p[0] = same ? pass : (seed ^ ((uint64_t)cursor * 0x9e3779b97f4a7c15ULL)) + pass;
      pages_this_second++;
      if (++cursor >= size_pages) {
        cursor = 0;
        pass++;
      }
    }
  }
  return 0;
}
