/*
 * The C reference listeners of `npm run bench`: what a C programmer writes with libmnl +
 * libnetfilter_queue (after libnetfilter_queue's examples/nf-queue.c), in five loops:
 *   per-packet    one recv, one NF_ACCEPT verdict sendto per packet (the library's example)
 *   batch         a recv batch (up to 32 datagrams, the first blocking, the rest MSG_DONTWAIT),
 *                 then one NFQNL_MSG_VERDICT_BATCH naming the batch's highest id (nfq_set_verdict_batch)
 *   drop          as batch, NF_DROP
 *   mangle        per packet: flip the last payload byte, make the IPv4 and UDP/TCP checksums right,
 *                 one verdict-with-payload sendto per packet
 *   mangle-batch  as mangle, but the verdicts-with-payload of a recv batch go in one sendto
 * <gso> 1 sets NFQA_CFG_F_GSO (super-packets delivered whole), 0 leaves it off.
 *
 * usage: nfq_listener <mode> <queue> <gso 0|1> <warmup s> <seconds>
 * Waits up to 10 s for traffic; measures a window of <seconds> starting <warmup> after the first
 * packet; prints "packets=… seconds=… cpu_us=… qdrop=… udrop=… offered=…": the queue's kernel and
 * user drops over the window and the packets that reached it (queued or dropped for a full queue),
 * from /proc/net/netfilter/nfnetlink_queue (this namespace's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

enum { BATCH = 32, RECV_BUF = 0xffff + 4096 };
enum mode { PER_PACKET, BATCHED, DROP, MANGLE, MANGLE_BATCH };

static struct mnl_socket *nl;
static unsigned queue_num, portid;
static enum mode mode;
static unsigned long packets;
static uint32_t last_id;
/* Verdicts of the current batch (mangle-batch): messages laid end to end, sent in one sendto. */
static char *out;
static size_t out_len;

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

/* Kernel (queue full) and user (socket buffer full) drops of this queue and its last packet id, from /proc. */
static void queue_drops(unsigned long *qdrop, unsigned long *udrop, unsigned long *ids) {
  *qdrop = *udrop = *ids = 0;
  FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
  if (f == NULL) return;
  unsigned q, pid, total, copy_mode, copy_range, seq, one;
  unsigned long qd, ud;
  while (fscanf(f, "%u %u %u %u %u %lu %lu %u %u", &q, &pid, &total, &copy_mode, &copy_range, &qd, &ud, &seq, &one) == 9) {
    if (q == queue_num) {
      *qdrop = qd;
      *udrop = ud;
      *ids = seq;
    }
  }
  fclose(f);
}

static void send_or_die(const void *buf, size_t len) {
  if (mnl_socket_sendto(nl, buf, len) < 0) {
    perror("verdict sendto");
    exit(EXIT_FAILURE);
  }
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum) {
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (len) sum += (uint32_t)(p[0] << 8);
  return sum;
}

/* Flips the last byte of an IPv4 UDP/TCP packet's payload and makes its checksums right. */
static void mangle_ipv4(uint8_t *pkt, size_t len) {
  if (len < 20 || pkt[0] >> 4 != 4) return;
  size_t ihl = (size_t)(pkt[0] & 15) * 4, total = (size_t)(pkt[2] << 8 | pkt[3]);
  if (total > len || ihl < 20 || total <= ihl) return;
  uint8_t proto = pkt[9];
  size_t l4len = total - ihl, csum_at = proto == IPPROTO_UDP ? 6 : proto == IPPROTO_TCP ? 16 : 0;
  if (csum_at == 0 || l4len < csum_at + 2) return;
  uint8_t *l4 = pkt + ihl;
  pkt[total - 1] ^= 1;
  pkt[10] = pkt[11] = 0;
  uint16_t ipsum = fold(sum16(pkt, ihl, 0));
  pkt[10] = (uint8_t)(ipsum >> 8);
  pkt[11] = (uint8_t)ipsum;
  l4[csum_at] = l4[csum_at + 1] = 0;
  uint32_t sum = sum16(pkt + 12, 8, 0) + proto + (uint32_t)l4len;
  uint16_t c = fold(sum16(l4, l4len, sum));
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  l4[csum_at] = (uint8_t)(c >> 8);
  l4[csum_at + 1] = (uint8_t)c;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data) {
  (void)data;
  struct nlattr *attr[NFQA_MAX + 1] = {0};
  if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) return MNL_CB_ERROR;
  struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
  uint32_t id = ntohl(ph->packet_id);
  packets++;
  if (mode == BATCHED || mode == DROP) {
    last_id = id;
    return MNL_CB_OK;
  }
  static char one[RECV_BUF + 256];
  char *buf = mode == MANGLE_BATCH ? out + out_len : one;
  struct nlmsghdr *v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue_num);
  nfq_nlmsg_verdict_put(v, (int)id, NF_ACCEPT);
  if ((mode == MANGLE || mode == MANGLE_BATCH) && attr[NFQA_PAYLOAD] != NULL) {
    uint8_t *pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
    uint16_t len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    mangle_ipv4(pkt, len);
    nfq_nlmsg_verdict_put_pkt(v, pkt, len);
  }
  if (mode == MANGLE_BATCH) out_len += NLMSG_ALIGN(v->nlmsg_len);
  else send_or_die(v, v->nlmsg_len);
  return MNL_CB_OK;
}

/* After a recv batch: the one verdict message of batch/drop, the one sendto of mangle-batch. */
static void end_batch(void) {
  if ((mode == BATCHED || mode == DROP) && last_id != 0) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, queue_num);
    nfq_nlmsg_verdict_put(v, (int)last_id, mode == DROP ? NF_DROP : NF_ACCEPT);
    send_or_die(v, v->nlmsg_len);
    last_id = 0;
  } else if (mode == MANGLE_BATCH && out_len > 0) {
    send_or_die(out, out_len);
    out_len = 0;
  }
}

static int parse_mode(const char *s) {
  const char *names[] = {"per-packet", "batch", "drop", "mangle", "mangle-batch"};
  for (int i = 0; i < 5; i++) if (strcmp(s, names[i]) == 0) return i;
  return -1;
}

int main(int argc, char *argv[]) {
  int m = argc == 6 ? parse_mode(argv[1]) : -1;
  if (m < 0) {
    fprintf(stderr, "usage: %s per-packet|batch|drop|mangle|mangle-batch <queue> <gso 0|1> <warmup s> <seconds>\n", argv[0]);
    return 2;
  }
  mode = (enum mode)m;
  queue_num = (unsigned)atoi(argv[2]);
  int gso = atoi(argv[3]);
  double warmup = atof(argv[4]), seconds = atof(argv[5]);
  /* Datagrams of up to 64 KiB (GSO super-packets); a batch's verdicts with payloads, end to end. */
  char *buf = malloc(RECV_BUF);
  out = malloc((size_t)BATCH * (RECV_BUF + 256));
  nl = mnl_socket_open(NETLINK_NETFILTER);
  if (buf == NULL || out == NULL || nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    perror("mnl_socket");
    return 1;
  }
  portid = mnl_socket_get_portid(nl);
  struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("bind"); return 1; }
  nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
  mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(4096));
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(gso ? NFQA_CFG_F_GSO : 0));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("params"); return 1; }
  int one = 1;
  mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(int));
  int rcv = 4 << 20;
  int fd = mnl_socket_get_fd(nl);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  printf("ready\n");
  fflush(stdout);
  int per_recv = mode == PER_PACKET || mode == MANGLE ? 1 : BATCH;
  double start = now(), first = 0, t0 = 0, cpu0 = 0;
  unsigned long packets0 = 0, qdrop0 = 0, udrop0 = 0, ids0 = 0;
  while (t0 ? now() - t0 < seconds : first ? 1 : now() - start < 10) {
    for (int i = 0; i < per_recv; i++) {
      ssize_t ret = recv(fd, buf, RECV_BUF, i == 0 ? 0 : MSG_DONTWAIT);
      if (ret < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS) break;
        perror("recv");
        return 1;
      }
      mnl_cb_run(buf, (size_t)ret, 0, portid, queue_cb, NULL);
    }
    end_batch();
    if (packets > 0 && first == 0) first = now();
    if (first != 0 && t0 == 0 && now() - first >= warmup) {
      t0 = now();
      cpu0 = cpu_us();
      packets0 = packets;
      queue_drops(&qdrop0, &udrop0, &ids0);
    }
  }
  unsigned long qdrop, udrop, ids;
  queue_drops(&qdrop, &udrop, &ids);
  /* offered: packets that reached the queue in the window, queued (ids given) or dropped for a full queue. */
  printf("packets=%lu seconds=%.3f cpu_us=%.0f qdrop=%lu udrop=%lu offered=%lu\n", packets - packets0, t0 ? now() - t0 : 0.0, t0 ? cpu_us() - cpu0 : 0.0,
         t0 ? qdrop - qdrop0 : 0, t0 ? udrop - udrop0 : 0, t0 ? ids - ids0 + qdrop - qdrop0 : 0);
  mnl_socket_close(nl);
  return 0;
}
