/*
 * Bench TCP bulk flow, both ends (no iperf3 needed):
 *   tcp_bulk send <ipv4> <port> <seconds>     connects and writes 128 KiB buffers for <seconds>
 *   tcp_bulk recv <port> <warmup s> <seconds> accepts one connection and reads; measures the
 *            bytes read in a window of <seconds> starting <warmup> after the first byte
 * The receiver prints "ready", then "bytes=<n> seconds=<s>"; the sender "sent=<bytes>".
 * Both are bounded in time (the receiver gives up 10 s after "ready" without data).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 128 << 10 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sender(const char *addr, int port, double seconds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
    perror("connect");
    return 1;
  }
  char *buf = calloc(1, CHUNK);
  unsigned long long sent = 0;
  double end = now() + seconds;
  while (now() < end) {
    ssize_t n = write(fd, buf, CHUNK);
    if (n > 0) sent += (unsigned long long)n;
  }
  close(fd);
  printf("sent=%llu\n", sent);
  return 0;
}

static int receiver(int port, double warmup, double seconds) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  struct timeval tv = {10, 0};
  setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (bind(lfd, (struct sockaddr *)&me, sizeof(me)) < 0 || listen(lfd, 1) < 0) {
    perror("listen");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) {
    printf("bytes=0 seconds=0\n");
    return 0;
  }
  struct timeval rtv = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof(rtv));
  char *buf = malloc(CHUNK);
  unsigned long long bytes = 0;
  double start = now(), first = 0, t0 = 0;
  for (;;) {
    double t = now();
    if (t0 != 0 ? t - t0 >= seconds : first == 0 && t - start > 10) break;
    ssize_t n = read(fd, buf, CHUNK);
    if (n == 0) break;
    if (n < 0) continue;
    if (first == 0) first = t;
    if (t0 == 0 && t - first >= warmup) t0 = t;
    if (t0 != 0) bytes += (unsigned long long)n;
  }
  printf("bytes=%llu seconds=%.3f\n", bytes, t0 ? now() - t0 : 0.0);
  close(fd);
  return 0;
}

int main(int argc, char *argv[]) {
  signal(SIGPIPE, SIG_IGN); /* the receiver closes when its window ends: the sender sees EPIPE, not a signal */
  if (argc == 5 && strcmp(argv[1], "send") == 0) return sender(argv[2], atoi(argv[3]), atof(argv[4]));
  if (argc == 5 && strcmp(argv[1], "recv") == 0) return receiver(atoi(argv[2]), atof(argv[3]), atof(argv[4]));
  fprintf(stderr, "usage: %s send <ipv4> <port> <seconds> | recv <port> <warmup s> <seconds>\n", argv[0]);
  return 2;
}
