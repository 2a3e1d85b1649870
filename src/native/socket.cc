// Placeholder: the socket bindings land with their mechanism.
#include "addon.h"

namespace ipckit {

void InitSocket(Napi::Env, Napi::Object) {}

}  // namespace ipckit
