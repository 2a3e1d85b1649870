// Placeholder: the shared_memory bindings land with their mechanism.
#include "addon.h"

namespace ipckit {

void InitSharedMemory(Napi::Env, Napi::Object) {}

}  // namespace ipckit
