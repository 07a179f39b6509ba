/*
 * Bench traffic source: sends UDP datagrams of a fixed payload size to <addr>:<port> with
 * sendmmsg, for at most <seconds> and at most <count> datagrams. Bounded in time and count.
 * With <spread> N, destination ports cycle through <port>..<port>+N-1 (one in N to <port>).
 * With <rate> > 0 it is an open-loop sender at that many datagrams per second (else as fast as
 * sendmmsg goes). With <sources> (comma-separated IPv4 addresses of this host) it sends from one
 * socket bound to each, in turn (one flow each: queue balancing hashes addresses). Each
 * datagram's first 8 payload bytes carry its flow's sequence number (big-endian), for
 * bench/c/udp_sink.c's order check.
 * usage: udp_flood <ipv4> <port> <payload bytes> <seconds> <count> [spread] [rate] [sources]
 * Prints "sent=<n> seconds=<s>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>
#include <time.h>

enum { BATCH = 64, MAX_SOURCES = 64 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
  if (argc < 6 || argc > 9) {
    fprintf(stderr, "usage: %s <ipv4> <port> <payload> <seconds> <count> [spread] [rate] [sources]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[2]);
  int spread = argc > 6 ? atoi(argv[6]) : 1;
  double rate = argc > 7 ? atof(argv[7]) : 0;
  if (spread < 1 || port + spread > 65536 || rate < 0) return 2;
  size_t len = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  unsigned long count = strtoul(argv[5], NULL, 10), sent = 0;
  int fds[MAX_SOURCES], nfds = 0;
  uint64_t seq[MAX_SOURCES] = {0};
  if (argc > 8) {
    char *list = strdup(argv[8]);
    for (char *a = strtok(list, ","); a != NULL && nfds < MAX_SOURCES; a = strtok(NULL, ",")) {
      struct sockaddr_in src = {.sin_family = AF_INET};
      if (inet_pton(AF_INET, a, &src.sin_addr) != 1) return 2;
      int fd = socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
        perror("bind source");
        return 1;
      }
      fds[nfds++] = fd;
    }
  } else {
    fds[nfds++] = socket(AF_INET, SOCK_DGRAM, 0);
  }
  size_t slot = len < 8 ? 8 : len;
  uint8_t *payloads = calloc(BATCH, slot);
  struct mmsghdr msgs[BATCH];
  struct sockaddr_in to[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof(msgs));
  memset(to, 0, sizeof(to));
  for (int i = 0; i < BATCH; i++) {
    to[i].sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &to[i].sin_addr) != 1) return 2;
    iov[i].iov_base = payloads + (size_t)i * slot;
    iov[i].iov_len = len;
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  double start = now(), t = start;
  for (int turn = 0; sent < count && (t = now()) < start + seconds; turn = (turn + 1) % nfds) {
    unsigned long batch = BATCH;
    if (rate > 0) {
      /* Open loop: no more than rate × elapsed so far; wait 20 µs when ahead. */
      double allowed = rate * (t - start) + 1;
      if ((double)sent >= allowed) {
        struct timespec pause = {0, 20000};
        nanosleep(&pause, NULL);
        continue;
      }
      if ((double)(sent + batch) > allowed) batch = (unsigned long)(allowed - (double)sent) + 1;
    }
    if (batch > count - sent) batch = count - sent;
    for (unsigned long i = 0; i < batch; i++) {
      to[i].sin_port = htons((uint16_t)(port + (int)((sent + i) % (unsigned long)spread)));
      if (len >= 8) {
        uint64_t s = seq[turn] + i;
        for (int b = 0; b < 8; b++) payloads[i * slot + (size_t)b] = (uint8_t)(s >> (56 - 8 * b));
      }
    }
    int n = sendmmsg(fds[turn], msgs, (unsigned)batch, 0);
    if (n > 0) {
      sent += (unsigned long)n;
      seq[turn] += (uint64_t)n;
    }
  }
  printf("sent=%lu seconds=%.3f\n", sent, now() - start);
  return 0;
}
