/*
 * Bench traffic sink: receives UDP datagrams on <port> and checks each flow's order by the
 * sequence number bench/c/udp_flood.c puts in the first 8 payload bytes (a flow is a source
 * address and port). Ends after <seconds> or after 1 s without a datagram once one came.
 * usage: udp_sink <port> <seconds>    prints "ready", then "received=<n> reordered=<n> flows=<n>"
 * (reordered: datagrams whose number was below one already seen on their flow).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum { BATCH = 64, MAX_FLOWS = 256 };

struct flow { uint32_t addr; uint16_t port; uint64_t next; };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <port> <seconds>\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  int rcv = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
    perror("bind");
    return 1;
  }
  static uint8_t bufs[BATCH][2048];
  struct sockaddr_in from[BATCH];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
    msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof(from[i]), .msg_iov = &iov[i], .msg_iovlen = 1};
  }
  static struct flow flows[MAX_FLOWS];
  int nflows = 0;
  unsigned long received = 0, reordered = 0;
  double start = now(), last = 0, seconds = atof(argv[2]);
  printf("ready\n");
  fflush(stdout);
  while (now() - start < seconds && (last == 0 || now() - last < 1)) {
    for (int i = 0; i < BATCH; i++) msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
    int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
    if (n <= 0) continue;
    last = now();
    for (int i = 0; i < n; i++) {
      received++;
      if (msgs[i].msg_len < 8) continue;
      uint64_t s = 0;
      for (int b = 0; b < 8; b++) s = s << 8 | bufs[i][b];
      int f = 0;
      while (f < nflows && (flows[f].addr != from[i].sin_addr.s_addr || flows[f].port != from[i].sin_port)) f++;
      if (f == nflows) {
        if (nflows == MAX_FLOWS) continue;
        flows[nflows++] = (struct flow){from[i].sin_addr.s_addr, from[i].sin_port, 0};
      }
      if (s < flows[f].next) reordered++;
      else flows[f].next = s + 1;
    }
  }
  printf("received=%lu reordered=%lu flows=%d\n", received, reordered, nflows);
  return 0;
}
