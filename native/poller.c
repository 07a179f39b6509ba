/*
 * Readiness polling on the per-environment libuv loop (never uv_default_loop(), so the addon
 * also works in worker threads). The poller only says "readable"/"writable"; reads happen in JS.
 *
 * Lifetime: pollStart() allocates a poller_t and returns it as an external. pollStop() stops the
 * watcher and uv_close()s it; the JS references are dropped in the uv_close callback, so a
 * callback already queued by libuv can never touch freed memory. The poller_t itself has two
 * owners, the uv handle and the JS external: it is freed when the second one lets go (the
 * uv_close callback or the external's finalizer), so pollStop() on a handle whose close already
 * completed still finds live memory and does nothing.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <uv.h>

/* The event bits uv_poll_start accepts; any other bit trips an assertion inside libuv. */
#define POLL_EVENTS (UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async_ctx;
  bool closing;
  int owners; /* the uv handle until its close callback, and the JS external until finalized */
} poller_t;

static void release(poller_t *p) {
  if (--p->owners == 0) free(p);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  poller_t *p = handle->data;
  if (p->closing) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb != NULL) {
    /* The receiver must be an object: an undefined receiver makes every callback throw. */
    napi_get_global(env, &recv);
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    if (napi_make_callback(env, p->async_ctx, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_close(uv_handle_t *handle) {
  poller_t *p = handle->data;
  napi_delete_reference(p->env, p->callback);
  napi_async_destroy(p->env, p->async_ctx);
  release(p);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

/* pollStart(fd, events, callback) -> external handle, or -errno */
napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, events;
  if (argc < 3 || !arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &events)) {
    napi_throw_type_error(env, NULL, "pollStart(fd, events, callback)");
    return NULL;
  }
  if (fd < 0) return make_int(env, -EBADF);
  if (events == 0 || (events & ~POLL_EVENTS) != 0) return make_int(env, -EINVAL);
  napi_valuetype t;
  NAPI_CALL(env, napi_typeof(env, argv[2], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "pollStart: callback must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof(*p));
  if (p == NULL) return make_int(env, -ENOMEM);
  p->owners = 1; /* the uv handle; the external adds itself once it exists */
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc != 0) {
    free(p);
    return make_int(env, rc); /* libuv errors are already -errno on Unix */
  }
  p->env = env;
  p->handle.data = p;
  napi_value name;
  napi_create_string_utf8(env, "divert:poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &p->async_ctx);
  napi_create_reference(env, argv[2], 1, &p->callback);
  rc = uv_poll_start(&p->handle, events, on_poll);
  if (rc != 0) {
    p->closing = true;
    uv_close((uv_handle_t *)&p->handle, on_close);
    return make_int(env, rc);
  }
  napi_value ext;
  if (napi_create_external(env, p, on_finalize, NULL, &ext) != napi_ok) {
    /* Nobody could ever stop this watcher: stop and free it now. */
    p->closing = true;
    uv_poll_stop(&p->handle);
    uv_close((uv_handle_t *)&p->handle, on_close);
    napi_throw_error(env, NULL, "divert native: cannot create the poll handle");
    return NULL;
  }
  p->owners++;
  return ext;
}

static poller_t *get_poller(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

/* pollStop(handle) -> 0; idempotent. */
napi_value poller_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p = argc == 1 ? get_poller(env, argv[0]) : NULL;
  if (p == NULL) {
    napi_throw_type_error(env, NULL, "pollStop(handle)");
    return NULL;
  }
  if (!p->closing) {
    p->closing = true;
    uv_poll_stop(&p->handle);
    uv_close((uv_handle_t *)&p->handle, on_close);
  }
  return make_int(env, 0);
}

/* pollRef(handle, ref): whether the watcher keeps the event loop (and so the process) alive. */
napi_value poller_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p = argc == 2 ? get_poller(env, argv[0]) : NULL;
  bool ref = false;
  if (p == NULL || napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, NULL, "pollRef(handle, boolean)");
    return NULL;
  }
  if (!p->closing) {
    if (ref) uv_ref((uv_handle_t *)&p->handle);
    else uv_unref((uv_handle_t *)&p->handle);
  }
  return make_int(env, 0);
}
