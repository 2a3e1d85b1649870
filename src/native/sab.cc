// A SharedArrayBuffer over memory the addon owns, through Node-API where the running Node has it.
//
// node_api_create_external_sharedarraybuffer is still experimental (declared only under
// NAPI_EXPERIMENTAL, js_native_api.h), so this translation unit alone opts in: it includes nothing but
// node_api.h, and nothing else of the addon is compiled against the experimental surface. The header's
// feature macro says whether the Node we build against declares it (Node 22, 24, 26; Node 20 does not);
// the reference is weak, so an addon built against a newer header still loads on a Node that lacks the
// symbol, and then reports false here. The caller (shared_memory.cc) falls back to the V8 API.
#undef NAPI_VERSION
#define NAPI_EXPERIMENTAL
#define NODE_API_EXPERIMENTAL_NO_WARNING  // deliberate, and confined to this file
#include <node_api.h>

#include <cstddef>

#ifdef NODE_API_EXPERIMENTAL_HAS_CREATE_EXTERNAL_SHAREDARRAYBUFFER
#pragma weak node_api_create_external_sharedarraybuffer
#endif

namespace ipckit {

// Whether NodeApiExternalSab can create one in this process.
bool HaveNodeApiSab() {
#ifdef NODE_API_EXPERIMENTAL_HAS_CREATE_EXTERNAL_SHAREDARRAYBUFFER
  return &node_api_create_external_sharedarraybuffer != nullptr;
#else
  return false;
#endif
}

// A SharedArrayBuffer over [data, data + len). `release(data, hint)` runs once its backing store goes,
// on any thread ("noenv" finalizer). False (nothing created, `release` not called) if Node-API cannot.
bool NodeApiExternalSab(napi_env env, void* data, size_t len, void (*release)(void*, void*), void* hint, napi_value* result) {
#ifdef NODE_API_EXPERIMENTAL_HAS_CREATE_EXTERNAL_SHAREDARRAYBUFFER
  if (!HaveNodeApiSab()) return false;
  return node_api_create_external_sharedarraybuffer(env, data, len, release, hint, result) == napi_ok;
#else
  (void)env, (void)data, (void)len, (void)release, (void)hint, (void)result;
  return false;
#endif
}

}  // namespace ipckit
