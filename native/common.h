/*
 * Shared helpers for the divert addon. The addon is a thin layer over syscalls: every call
 * returns n >= 0 or -errno and never throws, except a TypeError for wrong argument types.
 * No protocol logic lives in C (see native/README.md).
 */
#ifndef DIVERT_COMMON_H
#define DIVERT_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAPI_CALL(env, call)                                                 \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_type_error((env), NULL, "divert native: " #call " failed"); \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

/* Reads a JS number argument as int32 (TypeError if it is not a number). */
bool arg_int32(napi_env env, napi_value v, int32_t *out);
/* Reads a typed-array (or Buffer) argument as (pointer, byte length). */
bool arg_bytes(napi_env env, napi_value v, void **data, size_t *len);
/* Reads a Uint32Array argument (4-byte aligned by construction) as (pointer, byte length). */
bool arg_uint32_array(napi_env env, napi_value v, void **data, size_t *len);
napi_value make_int(napi_env env, int64_t v);

napi_value poller_start(napi_env env, napi_callback_info info);
napi_value poller_stop(napi_env env, napi_callback_info info);
napi_value poller_ref(napi_env env, napi_callback_info info);

#endif
