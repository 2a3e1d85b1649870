// Placeholder: the signal bindings land with their mechanism.
#include "addon.h"

namespace ipckit {

void InitSignal(Napi::Env, Napi::Object) {}

}  // namespace ipckit
