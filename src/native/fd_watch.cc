// FdWatcher: readiness of a file descriptor through the event loop (uv_poll). Pipes, FIFOs, POSIX
// message queue descriptors, signalfd/self-pipes, pidfds, eventfds and sockets are all pollable on Linux,
// so waiting on any of them costs neither a thread nor a timer.
//
// Rules the TypeScript side keeps (libuv's, see uv_poll_t in the libuv docs):
// - one watcher per fd at a time: two active uv_poll handles on one fd confuse epoll;
// - close the watcher before closing the fd: epoll would otherwise keep watching the open file
//   description under a number that may already be reused;
// - the callback receives (status, events) with status a negative errno (e.g. -EBADF) or 0.
//
// Teardown: an active watcher holds a strong reference to its JS object, so when an environment ends
// (a worker exits with a wait pending) its finaliser may never run and its uv_poll handle would stay open
// on a loop that is being closed. An env cleanup hook closes every watcher of the environment, as the
// waiter's does for its handles.
#include "addon.h"

#include <unordered_set>

namespace ipckit {

namespace {

class FdWatcher;

// The live watchers of one environment. Shared with each watcher, so that a watcher finalised after
// the hook ran still has a set to leave.
struct Watchers {
  std::unordered_set<FdWatcher*> live;
  bool torn_down = false;
};

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {
                           InstanceMethod<&FdWatcher::Start>("start"),
                           InstanceMethod<&FdWatcher::Stop>("stop"),
                           InstanceMethod<&FdWatcher::Close>("close"),
                           InstanceMethod<&FdWatcher::SetRef>("ref"),
                           InstanceMethod<&FdWatcher::SetUnref>("unref"),
                       });
  }

  explicit FdWatcher(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FdWatcher>(info), context_(info.Env(), "ipckit:FdWatcher") {
    fd_ = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    watchers_ = *static_cast<std::shared_ptr<Watchers>*>(Data(info.Env()).fd_watchers);
    watchers_->live.insert(this);
  }

  ~FdWatcher() override {
    watchers_->live.erase(this);
    if (!watchers_->torn_down) Release();
  }

  // The environment is ending: close the handle and drop the reference to the JS object.
  static void Teardown(void* arg) {
    auto* holder = static_cast<std::shared_ptr<Watchers>*>(arg);
    std::shared_ptr<Watchers> w = *holder;
    delete holder;
    for (FdWatcher* fw : w->live) {
      fw->Release();
      fw->closed_ = true;
    }
    w->torn_down = true;
  }

 private:
  // start(events): 0 or -errno. events is a mask of 1 (readable), 2 (writable), 4 (disconnect).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int events = info[0].As<Napi::Number>().Int32Value();
    if (closed_) return Result(env, -EBADF);
    if (poll_ == nullptr) {
      poll_ = new uv_poll_t;
      int rc = uv_poll_init(Loop(env), poll_, fd_);
      if (rc < 0) {
        delete poll_;
        poll_ = nullptr;
        return Result(env, rc);
      }
      poll_->data = this;
      if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
    int rc = uv_poll_start(poll_, events, OnPoll);
    if (rc < 0) return Result(env, rc);
    if (!active_) {
      active_ = true;
      Ref();  // the JS object must outlive an active handle that calls back into it
    }
    return Result(env, 0);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPoll();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    closed_ = true;
    return info.Env().Undefined();
  }

  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    refed_ = true;
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value SetUnref(const Napi::CallbackInfo& info) {
    refed_ = false;
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  void StopPoll() {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    if (active_) {
      active_ = false;
      Unref();
    }
  }

  void Release() {
    StopPoll();
    if (poll_ != nullptr) {
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
        delete reinterpret_cast<uv_poll_t*>(h);
      });
      poll_ = nullptr;
    }
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr || !self->active_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // The C call, not Napi::FunctionReference::MakeCallback: in a worker being terminated it fails without
    // a JS exception (the env cannot run JS), and node-addon-api's Error for that failure cannot be made
    // either: a fatal "Error::Error napi_define_properties" (seen in fork.test, spawnWorker + terminate).
    napi_value argv[2] = {Napi::Number::New(env, status), Napi::Number::New(env, events)};
    napi_value result;
    napi_status st = napi_make_callback(env, self->context_, self->Value(), self->callback_.Value(), 2, argv, &result);
    if (st != napi_ok) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
      // Else nothing can run here any more (a terminating worker): the event goes with it.
    }
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool active_ = false;
  bool refed_ = true;
  bool closed_ = false;
  Napi::FunctionReference callback_;
  Napi::AsyncContext context_;
  std::shared_ptr<Watchers> watchers_;
};

}  // namespace

void InitFdWatch(Napi::Env env, Napi::Object exports) {
  auto* holder = new std::shared_ptr<Watchers>(std::make_shared<Watchers>());
  Data(env).fd_watchers = holder;
  napi_add_env_cleanup_hook(env, FdWatcher::Teardown, holder);
  exports.Set("FdWatcher", FdWatcher::Class(env));
}

}  // namespace ipckit
