/*
 * Reference point for `npm run bench`: the minimal accept-all NFQUEUE listener that a C programmer
 * writes with libmnl + libnetfilter_queue (after libnetfilter_queue's examples/nf-queue.c): one
 * recv per datagram, mnl_cb_run, one NF_ACCEPT verdict per packet. Built and run by bench/.
 *
 * usage: nfq_accept <queue> <seconds>   measures a window of <seconds> from the first packet and
 * prints "packets=<n> seconds=<s> cpu_us=<u>" (CPU time used inside the window).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static struct mnl_socket *nl;
static unsigned long packets;
static unsigned queue_num;

static void send_verdict(uint32_t id) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue_num);
  nfq_nlmsg_verdict_put(nlh, id, NF_ACCEPT);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    perror("mnl_socket_send");
    exit(EXIT_FAILURE);
  }
}

static int queue_cb(const struct nlmsghdr *nlh, void *data) {
  (void)data;
  struct nlattr *attr[NFQA_MAX + 1] = {0};
  if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) return MNL_CB_ERROR;
  struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
  send_verdict(ntohl(ph->packet_id));
  packets++;
  return MNL_CB_OK;
}

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <queue> <seconds>\n", argv[0]);
    return 2;
  }
  queue_num = (unsigned)atoi(argv[1]);
  double seconds = atof(argv[2]);
  size_t sizeof_buf = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
  char *buf = malloc(sizeof_buf);
  nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    perror("mnl_socket");
    return 1;
  }
  unsigned portid = mnl_socket_get_portid(nl);
  struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("bind"); return 1; }
  nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("params"); return 1; }
  int one = 1;
  mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(int));
  int rcv = 4 << 20;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
  struct timeval tv = {0, 100000};
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  printf("ready\n");
  fflush(stdout);
  double start = now(), first = 0, cpu0 = 0;
  unsigned long packets0 = 0;
  /* Wait up to 10 s for traffic, then measure `seconds` from the first packet. */
  while (first ? now() - first < seconds : now() - start < 10) {
    int ret = mnl_socket_recvfrom(nl, buf, sizeof_buf);
    if (ret < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS) continue;
      perror("recv");
      return 1;
    }
    mnl_cb_run(buf, ret, 0, portid, queue_cb, NULL);
    if (first == 0) {
      first = now();
      cpu0 = cpu_us();
      packets0 = packets;
    }
  }
  printf("packets=%lu seconds=%.3f cpu_us=%.0f\n", packets - packets0, first ? now() - first : 0.0, cpu_us() - cpu0);
  mnl_socket_close(nl);
  return 0;
}
