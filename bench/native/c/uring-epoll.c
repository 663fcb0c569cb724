/* The B3 mechanism without Node: two processes ping-pong through futex words
 * in shared memory, each sleeping the way Commy's event-loop wait does.
 *   uring-epoll MODE ROUNDS  -> {"p50_ns":..,"p99_ns":..,"rounds":..}
 * MODE:
 *   epoll   IORING_OP_FUTEX_WAIT on the peer's word, sleep in epoll_wait on
 *           the ring fd (what libuv does for Commy), drain the CQ, reply
 *           with store + FUTEX_WAKE, re-arm: Commy's hops, no JS, no libuv
 *   coop    same with IORING_SETUP_SINGLE_ISSUER | COOP_TASKRUN (task work
 *           without an IPI to a running task)
 *   defer   same with IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN and an
 *           eventfd registered on the ring (epoll waits on the eventfd; task
 *           work runs in io_uring_enter(GETEVENTS))
 *   enter   IORING_OP_FUTEX_WAIT, sleep in io_uring_enter(GETEVENTS) itself
 *           (no epoll): the io_uring futex floor
 * Linux >= 6.7 (IORING_OP_FUTEX_WAIT). Raw syscalls, no liburing. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#define OP_FUTEX_WAIT 51

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static int cmp(const void* a, const void* b) {
  long long x = *(const long long*)a, y = *(const long long*)b;
  return x < y ? -1 : x > y;
}

struct ring {
  int fd, efd, ep;
  unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe* sqes;
  struct io_uring_cqe* cqes;
  unsigned pending;
};

static int setup(struct ring* r, int mode) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  if (mode == 1) p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (mode == 3) p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  r->fd = syscall(__NR_io_uring_setup, 8, &p);
  if (r->fd < 0) return -1;
  size_t sl = p.sq_off.array + p.sq_entries * 4, cl = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cl > sl) sl = cl;
  uint8_t* sq = mmap(0, sl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  r->sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                 IORING_OFF_SQES);
  r->sq_tail = (unsigned*)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned*)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned*)(sq + p.sq_off.array);
  r->cq_head = (unsigned*)(sq + p.cq_off.head);
  r->cq_tail = (unsigned*)(sq + p.cq_off.tail);
  r->cq_mask = (unsigned*)(sq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe*)(sq + p.cq_off.cqes);
  r->pending = 0;
  r->ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  if (mode == 1) {
    r->efd = eventfd(0, EFD_NONBLOCK);
    if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_EVENTFD, &r->efd, 1) < 0) return -1;
    epoll_ctl(r->ep, EPOLL_CTL_ADD, r->efd, &ev);
  } else {
    epoll_ctl(r->ep, EPOLL_CTL_ADD, r->fd, &ev);
  }
  return 0;
}
static void queue_wait(struct ring* r, _Atomic uint32_t* w, uint32_t expected) {
  unsigned t = *r->sq_tail, i = t & *r->sq_mask;
  struct io_uring_sqe* s = &r->sqes[i];
  memset(s, 0, sizeof *s);
  s->opcode = OP_FUTEX_WAIT;
  s->fd = 2; /* FUTEX2_SIZE_U32, shared */
  s->addr = (uint64_t)(uintptr_t)w;
  s->off = expected;
  s->addr3 = 0xffffffffu;
  s->user_data = 1;
  r->sq_array[i] = i;
  atomic_store_explicit((_Atomic unsigned*)r->sq_tail, t + 1, memory_order_release);
  r->pending++;
}
static int drain(struct ring* r) {
  int n = 0;
  unsigned h = *r->cq_head, t = atomic_load_explicit((_Atomic unsigned*)r->cq_tail, memory_order_acquire);
  for (; h != t; h++) n++;
  atomic_store_explicit((_Atomic unsigned*)r->cq_head, h, memory_order_release);
  return n;
}
/* Sleep until *w != expected, the way MODE does. */
static void wait_for(struct ring* r, int mode, _Atomic uint32_t* w, uint32_t expected) {
  while (atomic_load(w) == expected) {
    queue_wait(r, w, expected);
    if (mode == 2) {
      syscall(__NR_io_uring_enter, r->fd, r->pending, 1, IORING_ENTER_GETEVENTS, NULL, 0);
      r->pending = 0;
      drain(r);
      continue;
    }
    syscall(__NR_io_uring_enter, r->fd, r->pending, 0, 0, NULL, 0);
    r->pending = 0;
    for (;;) {
      if (mode == 1) syscall(__NR_io_uring_enter, r->fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0); /* run task work */
      if (drain(r)) break;
      struct epoll_event ev;
      epoll_wait(r->ep, &ev, 1, -1);
      if (mode == 1) {
        uint64_t x;
        if (read(r->efd, &x, 8) < 0) {}
      }
    }
  }
}
static void set_wake(_Atomic uint32_t* w, uint32_t v) {
  atomic_store(w, v);
  syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int main(int argc, char** argv) {
  const char* m = argc > 1 ? argv[1] : "epoll";
  int mode = !strcmp(m, "defer") ? 1 : !strcmp(m, "enter") ? 2 : !strcmp(m, "coop") ? 3 : 0;
  int rounds = argc > 2 ? atoi(argv[2]) : 5000;
  _Atomic uint32_t* mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  _Atomic uint32_t *ping = mem, *pong = mem + 16;
  pid_t child = fork();
  struct ring r;
  if (setup(&r, mode) < 0) {
    fprintf(stderr, "io_uring setup failed\n");
    return 1;
  }
  if (child == 0) {
    for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
      wait_for(&r, mode, ping, i - 1);
      set_wake(pong, i);
    }
    _exit(0);
  }
  long long* rtt = malloc(sizeof(long long) * rounds);
  for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
    long long t0 = now_ns();
    set_wake(ping, i);
    wait_for(&r, mode, pong, i - 1);
    rtt[i - 1] = now_ns() - t0;
  }
  waitpid(child, NULL, 0);
  int skip = rounds / 10, n = rounds - skip;
  qsort(rtt + skip, n, sizeof(long long), cmp);
  printf("{\"p50_ns\":%lld,\"p99_ns\":%lld,\"rounds\":%d}\n", rtt[skip + n / 2], rtt[skip + n * 99 / 100], n);
  return 0;
}
