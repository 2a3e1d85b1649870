// Placeholder: the message_queue bindings land with their mechanism.
#include "addon.h"

namespace ipckit {

void InitMessageQueue(Napi::Env, Napi::Object) {}

}  // namespace ipckit
