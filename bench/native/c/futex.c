/* Raw futex ping-pong between two processes: each side sleeps in FUTEX_WAIT
 * until the other stores and FUTEX_WAKEs. The B3 floor.
 * usage: futex ROUNDS  -> prints {"p50_ns":..,"p99_ns":..,"rounds":..} */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static int cmp(const void* a, const void* b) {
  long long x = *(const long long*)a, y = *(const long long*)b;
  return x < y ? -1 : x > y;
}
static void wait_for(_Atomic int* w, int want) {
  int v;
  while ((v = atomic_load(w)) != want) syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}
static void set_wake(_Atomic int* w, int v) {
  atomic_store(w, v);
  syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5000;
  _Atomic int* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  _Atomic int* ping = mem;
  _Atomic int* pong = mem + 16;
  pid_t child = fork();
  if (child == 0) {
    for (int i = 1; i <= rounds; i++) {
      wait_for(ping, i);
      set_wake(pong, i);
    }
    _exit(0);
  }
  long long* rtt = malloc(sizeof(long long) * rounds);
  for (int i = 1; i <= rounds; i++) {
    long long t0 = now_ns();
    set_wake(ping, i);
    wait_for(pong, i);
    rtt[i - 1] = now_ns() - t0;
  }
  waitpid(child, NULL, 0);
  int skip = rounds / 10;
  qsort(rtt + skip, rounds - skip, sizeof(long long), cmp);
  int n = rounds - skip;
  printf("{\"p50_ns\":%lld,\"p99_ns\":%lld,\"rounds\":%d}\n", rtt[skip + n / 2], rtt[skip + n * 99 / 100], n);
  return 0;
}
