// Placeholder: the semaphore bindings land with their mechanism.
#include "addon.h"

namespace ipckit {

void InitSemaphore(Napi::Env, Napi::Object) {}

}  // namespace ipckit
