/*
 * divert_native: the only code in the project that makes syscalls.
 *
 * Contract (see native/README.md):
 *  - every call returns n >= 0 or -errno; only wrong argument types throw (TypeError);
 *  - memory is owned by JavaScript: receive calls fill caller buffers, no per-packet allocation here;
 *  - sockets are always SOCK_NONBLOCK | SOCK_CLOEXEC, readiness comes from pollStart();
 *  - socket() can open the socket inside another network namespace (path to an nsfs file), by
 *    switching only the calling thread there and back, as setns(2) allows;
 *  - every length that reaches the kernel or libuv is checked here first: a sockaddr is 2 (its
 *    family) to sizeof(struct sockaddr_storage) bytes, option values fit a socklen_t, receive
 *    slots lie inside the arena, a negative fd is EBADF. A wrong size is -EINVAL, never a crash.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_BATCH 256

/* The longest sockaddr the kernel takes; the shortest holds its sa_family_t. */
#define SOCKADDR_MIN sizeof(sa_family_t)
#define SOCKADDR_MAX sizeof(struct sockaddr_storage)

bool arg_int32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

bool arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return false;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *len = length * elem;
    return true;
  }
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) return napi_get_buffer_info(env, v, data, len) == napi_ok;
  return false;
}

bool arg_uint32_array(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return false;
  if (type != napi_uint32_array) return false;
  *len = length * 4;
  return true;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null;
}

/*
 * Switches the calling thread into the network namespace at `path`; `*saved` keeps the one to come
 * back to (leave_netns). Returns 0 or -errno, switching nothing on failure.
 */
static int enter_netns(const char *path, int *saved) {
  *saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*saved < 0) return -errno;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(*saved);
    return -e;
  }
  int r = setns(target, CLONE_NEWNET) != 0 ? -errno : 0;
  close(target);
  if (r != 0) close(*saved);
  return r;
}

static void leave_netns(int saved) {
  /* Going back must not fail silently: a thread left in the wrong namespace is a disaster. */
  if (setns(saved, CLONE_NEWNET) != 0) {
    napi_fatal_error("divert_native", NAPI_AUTO_LENGTH, "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
  }
  close(saved);
}

/* A string argument into `buf`; false (TypeError thrown with `usage`) if it is not one, -ENAMETOOLONG via *too_long. */
static bool arg_path(napi_env env, napi_value v, char *buf, size_t size, bool *too_long, const char *usage) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, size, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  /* A longer path would have been cut short: never open a different file than asked. */
  *too_long = n >= size - 1;
  return true;
}

/* socket(domain, type, protocol, netnsPath?) -> fd | -errno */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t domain, type, protocol;
  if (argc < 3 || !arg_int32(env, argv[0], &domain) || !arg_int32(env, argv[1], &type) ||
      !arg_int32(env, argv[2], &protocol)) {
    napi_throw_type_error(env, NULL, "socket(domain, type, protocol, netnsPath?)");
    return NULL;
  }
  char path[4096];
  bool in_netns = argc >= 4 && !is_nullish(env, argv[3]);
  int saved = -1;
  if (in_netns) {
    bool too_long;
    if (!arg_path(env, argv[3], path, sizeof(path), &too_long, "socket: netnsPath must be a string")) return NULL;
    if (too_long) return make_int(env, -ENAMETOOLONG);
    int r = enter_netns(path, &saved);
    if (r < 0) return make_int(env, r);
  }
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  int err = fd < 0 ? errno : 0;
  if (in_netns) leave_netns(saved);
  return make_int(env, fd < 0 ? -err : fd);
}

/*
 * openInNetns(path, netnsPath) -> fd | -errno: opens `path` read-only (O_CLOEXEC) with the calling
 * thread inside the namespace at `netnsPath`, and back. For /proc/thread-self/net/... files,
 * which show the namespace they were opened in for as long as they stay open.
 */
static napi_value js_open_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  static const char usage[] = "openInNetns(path, netnsPath): two strings";
  if (argc < 2) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char path[4096], ns[4096];
  bool path_long, ns_long;
  if (!arg_path(env, argv[0], path, sizeof(path), &path_long, usage)) return NULL;
  if (!arg_path(env, argv[1], ns, sizeof(ns), &ns_long, usage)) return NULL;
  if (path_long || ns_long) return make_int(env, -ENAMETOOLONG);
  int saved;
  int r = enter_netns(ns, &saved);
  if (r < 0) return make_int(env, r);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  leave_netns(saved);
  return make_int(env, fd < 0 ? -err : fd);
}

/* Reads the (fd, bytes) arguments that bind and getsockname share; TypeError with `usage` if wrong. */
static bool fd_and_bytes(napi_env env, napi_callback_info info, int32_t *fd, void **data, size_t *len, const char *usage) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !arg_int32(env, argv[0], fd) ||
      !arg_bytes(env, argv[1], data, len)) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  return true;
}

/* bind(fd, sockaddr bytes) -> 0 | -errno */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *addr;
  size_t len;
  if (!fd_and_bytes(env, info, &fd, &addr, &len, "bind(fd, sockaddr)")) return NULL;
  if (fd < 0) return make_int(env, -EBADF);
  if (len < SOCKADDR_MIN || len > SOCKADDR_MAX) return make_int(env, -EINVAL);
  return make_int(env, bind(fd, addr, (socklen_t)len) == 0 ? 0 : -errno);
}

/* getsockname(fd, out) -> length written | -errno; -EINVAL when `out` is too short for the address. */
static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *addr;
  size_t len;
  if (!fd_and_bytes(env, info, &fd, &addr, &len, "getsockname(fd, out)")) return NULL;
  if (fd < 0) return make_int(env, -EBADF);
  if (len > SOCKADDR_MAX) len = SOCKADDR_MAX;
  socklen_t sl = (socklen_t)len;
  if (getsockname(fd, addr, &sl) != 0) return make_int(env, -errno);
  /* The kernel cut the address short and returned its full size: "length written" would lie. */
  return make_int(env, sl > len ? -EINVAL : (int64_t)sl);
}

/* setsockopt(fd, level, name, int | bytes) -> 0 | -errno */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, level, name, ival;
  if (argc < 4 || !arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &level) ||
      !arg_int32(env, argv[2], &name)) {
    napi_throw_type_error(env, NULL, "setsockopt(fd, level, name, value)");
    return NULL;
  }
  void *data;
  size_t len;
  int rc;
  if (fd < 0) return make_int(env, -EBADF);
  if (arg_int32(env, argv[3], &ival)) {
    int v = ival;
    rc = setsockopt(fd, level, name, &v, sizeof(v));
  } else if (arg_bytes(env, argv[3], &data, &len)) {
    if (len > INT_MAX) return make_int(env, -EINVAL);
    rc = setsockopt(fd, level, name, data, (socklen_t)len);
  } else {
    napi_throw_type_error(env, NULL, "setsockopt: value must be an int32 or a typed array");
    return NULL;
  }
  return make_int(env, rc == 0 ? 0 : -errno);
}

/* getsockopt(fd, level, name, out) -> length | -errno */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, level, name;
  void *data;
  size_t len;
  if (argc < 4 || !arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &level) ||
      !arg_int32(env, argv[2], &name) || !arg_bytes(env, argv[3], &data, &len)) {
    napi_throw_type_error(env, NULL, "getsockopt(fd, level, name, out)");
    return NULL;
  }
  if (fd < 0) return make_int(env, -EBADF);
  if (len > INT_MAX) return make_int(env, -EINVAL);
  socklen_t sl = (socklen_t)len;
  return make_int(env, getsockopt(fd, level, name, data, &sl) == 0 ? (int64_t)sl : -errno);
}

/* close(fd) -> 0 | -errno */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !arg_int32(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  if (fd < 0) return make_int(env, -EBADF);
  return make_int(env, close(fd) == 0 ? 0 : -errno);
}

/* sendto(fd, bytes, sockaddr | null, flags) -> bytes sent | -errno */
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, flags = 0;
  void *buf, *addr = NULL;
  size_t len, alen = 0;
  bool has_addr = argc >= 3 && !is_nullish(env, argv[2]);
  if (argc < 2 || !arg_int32(env, argv[0], &fd) || !arg_bytes(env, argv[1], &buf, &len) ||
      (has_addr && !arg_bytes(env, argv[2], &addr, &alen)) ||
      (argc >= 4 && !arg_int32(env, argv[3], &flags))) {
    napi_throw_type_error(env, NULL, "sendto(fd, bytes, sockaddr?, flags?)");
    return NULL;
  }
  if (fd < 0) return make_int(env, -EBADF);
  /* A sockaddr that is given must at least hold its family (an empty one is not "no address"). */
  if (has_addr && (alen < SOCKADDR_MIN || alen > SOCKADDR_MAX)) return make_int(env, -EINVAL);
  ssize_t n;
  do {
    n = sendto(fd, buf, len, flags, addr, (socklen_t)alen);
  } while (n < 0 && errno == EINTR);
  return make_int(env, n < 0 ? -errno : n);
}

/*
 * recvmmsg(fd, arena, slotSize, maxMessages, lengths: Uint32Array) -> messages | -errno
 * Datagram i lands at arena[i * slotSize]; lengths[i] gets its size, with bit 31 set when the
 * kernel truncated it (MSG_TRUNC). Non-blocking: EAGAIN returns 0. At most as many messages as
 * whole slots fit in the arena and entries in `lengths`; none fitting is -EINVAL.
 */
static napi_value js_recvmmsg(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, slot, max;
  void *arena, *lens;
  size_t arena_len, lens_len;
  if (argc < 5 || !arg_int32(env, argv[0], &fd) || !arg_bytes(env, argv[1], &arena, &arena_len) ||
      !arg_int32(env, argv[2], &slot) || !arg_int32(env, argv[3], &max) ||
      !arg_uint32_array(env, argv[4], &lens, &lens_len)) {
    napi_throw_type_error(env, NULL, "recvmmsg(fd, arena, slotSize, maxMessages, lengths: Uint32Array)");
    return NULL;
  }
  if (fd < 0) return make_int(env, -EBADF);
  if (slot <= 0 || max <= 0) return make_int(env, -EINVAL);
  if (max > MAX_BATCH) max = MAX_BATCH;
  if ((size_t)max * (size_t)slot > arena_len) max = (int32_t)(arena_len / (size_t)slot);
  if ((size_t)max * 4 > lens_len) max = (int32_t)(lens_len / 4);
  if (max <= 0) return make_int(env, -EINVAL);
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  for (int i = 0; i < max; i++) {
    iov[i].iov_base = (char *)arena + (size_t)i * (size_t)slot;
    iov[i].iov_len = (size_t)slot;
    memset(&msgs[i], 0, sizeof(msgs[i]));
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n;
  do {
    n = recvmmsg(fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return make_int(env, (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno);
  uint32_t *l = lens;
  for (int i = 0; i < n; i++) {
    l[i] = msgs[i].msg_len | ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0x80000000u : 0);
  }
  return make_int(env, n);
}

/*
 * poll(fd, events, timeoutMs) -> revents (0 on timeout) | -errno. Blocks the calling thread:
 * only for short synchronous waits such as a config request's ACK, never on the packet path.
 */
static napi_value js_poll(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, events, timeout;
  if (argc < 3 || !arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &events) || !arg_int32(env, argv[2], &timeout)) {
    napi_throw_type_error(env, NULL, "poll(fd, events, timeoutMs)");
    return NULL;
  }
  /* poll(2) ignores a negative fd and would sleep the whole timeout; a negative timeout would
   * block this (the JavaScript) thread forever. */
  if (fd < 0) return make_int(env, -EBADF);
  if (timeout < 0 || events < 0 || events > SHRT_MAX) return make_int(env, -EINVAL);
  struct pollfd pfd = {.fd = fd, .events = (short)events, .revents = 0};
  int n = poll(&pfd, 1, timeout);
  if (n < 0) return make_int(env, errno == EINTR ? 0 : -errno);
  return make_int(env, n == 0 ? 0 : pfd.revents);
}

#define EXPORT(name, fn)                                                          \
  do {                                                                            \
    napi_value f;                                                                 \
    NAPI_CALL(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f)); \
    NAPI_CALL(env, napi_set_named_property(env, exports, name, f));               \
  } while (0)

static napi_value init(napi_env env, napi_value exports) {
  EXPORT("socket", js_socket);
  EXPORT("openInNetns", js_open_in_netns);
  EXPORT("bind", js_bind);
  EXPORT("getsockname", js_getsockname);
  EXPORT("setsockopt", js_setsockopt);
  EXPORT("getsockopt", js_getsockopt);
  EXPORT("close", js_close);
  EXPORT("sendto", js_sendto);
  EXPORT("recvmmsg", js_recvmmsg);
  EXPORT("poll", js_poll);
  EXPORT("pollStart", poller_start);
  EXPORT("pollStop", poller_stop);
  EXPORT("pollRef", poller_ref);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
