/*
 * Bench traffic source: sends UDP datagrams of a fixed payload size to <addr>:<port> as fast as
 * sendmmsg allows, for at most <seconds> and at most <count> datagrams. Bounded in time and count.
 * With <spread> N, destination ports cycle through <port>..<port>+N-1 (one in N to <port>).
 * usage: udp_flood <ipv4> <port> <payload bytes> <seconds> <count> [spread]
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

int main(int argc, char *argv[]) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s <ipv4> <port> <payload> <seconds> <count> [spread]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[2]);
  int spread = argc == 7 ? atoi(argv[6]) : 1;
  if (spread < 1 || port + spread > 65536) return 2;
  size_t len = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  unsigned long count = strtoul(argv[5], NULL, 10), sent = 0;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  char *payload = calloc(1, len ? len : 1);
  enum { BATCH = 64 };
  struct mmsghdr msgs[BATCH];
  struct sockaddr_in to[BATCH];
  struct iovec iov = {payload, len};
  memset(msgs, 0, sizeof(msgs));
  memset(to, 0, sizeof(to));
  for (int i = 0; i < BATCH; i++) {
    to[i].sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &to[i].sin_addr) != 1) return 2;
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double end = ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
  while (sent < count) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ts.tv_sec + ts.tv_nsec / 1e9 >= end) break;
    for (int i = 0; i < BATCH; i++) to[i].sin_port = htons((uint16_t)(port + (int)((sent + (unsigned long)i) % (unsigned long)spread)));
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0) sent += (unsigned long)n;
  }
  printf("sent=%lu\n", sent);
  return 0;
}
