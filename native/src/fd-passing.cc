// fd-passing.cc — sendmsg/recvmsg with SCM_RIGHTS for Node.js.
//
// Node's net module cannot send or receive file descriptors over a Unix socket (outside its own
// child-process IPC channel). This tiny, generic addon does exactly that and nothing else: it
// knows no protocol and nothing of who uses it.
//
//   connectUnix(path) -> fd                      blocking connect, SOCK_CLOEXEC
//   sendWithFds(fd, data, fds, timeoutMs) -> n   sendmsg; the fds ride with the first byte
//   recvWithFds(fd, maxBytes, maxFds, timeoutMs) -> Promise<{ data, fds }>
//                                                poll + recvmsg on a libuv thread-pool thread,
//                                                never blocking the JS thread; MSG_CMSG_CLOEXEC
//   closeFd(fd)
//   peerCredentials(fd) -> { pid, uid, gid }    SO_PEERCRED of a connected Unix socket
//
// Errors are thrown/rejected as Error objects with `code` = the errno name (e.g. "ECONNREFUSED",
// "ETIMEDOUT", "EBADF").
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

constexpr size_t kMaxFds = 16;
constexpr size_t kMaxRecv = 16u << 20;

const char* ErrnoName(int e) {
  switch (e) {
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ENOENT: return "ENOENT";
    case ENOTSOCK: return "ENOTSOCK";
    case EPIPE: return "EPIPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    default: return "EIO";
  }
}

Napi::Error ErrnoError(Napi::Env env, const char* what, int e) {
  Napi::Error err = Napi::Error::New(env, std::string(what) + ": " + std::strerror(e));
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  return err;
}

// Waits until `fd` is ready for `events`, up to timeout_ms (<0: forever). Returns 0, or an errno.
int WaitReady(int fd, short events, int timeout_ms) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r > 0) return 0;
    if (r == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
}

Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "connectUnix(path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    ErrnoError(env, "connectUnix", ENAMETOOLONG).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ErrnoError(env, "socket", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int r;
  do r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    ErrnoError(env, "connect", e).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

Napi::Value SendWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "sendWithFds(fd: number, data: Uint8Array, fds: number[], timeoutMs?: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  Napi::Array arr = info[2].As<Napi::Array>();
  int timeout_ms = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 5000;
  if (arr.Length() > kMaxFds || data.ByteLength() == 0) {
    Napi::RangeError::New(env, "sendWithFds: 1+ bytes and at most 16 fds").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<int> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) {
      Napi::TypeError::New(env, "sendWithFds: fds must be numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    fds.push_back(v.As<Napi::Number>().Int32Value());
  }
  const uint8_t* p = data.Data();
  size_t left = data.ByteLength();
  size_t sent_total = 0;
  bool fds_sent = fds.empty();
  // The socket may be non-blocking (a libuv-owned fd): wait for writability instead of failing.
  while (left > 0) {
    iovec iov{const_cast<uint8_t*>(p), left};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds_sent) {
      control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        int w = WaitReady(fd, POLLOUT, timeout_ms);
        if (w != 0) {
          ErrnoError(env, "sendmsg", w).ThrowAsJavaScriptException();
          return env.Undefined();
        }
        continue;
      }
      ErrnoError(env, "sendmsg", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    fds_sent = true;  // ancillary data travels with the first byte accepted
    p += n;
    left -= static_cast<size_t>(n);
    sent_total += static_cast<size_t>(n);
  }
  return Napi::Number::New(env, static_cast<double>(sent_total));
}

class RecvWorker : public Napi::AsyncWorker {
 public:
  RecvWorker(Napi::Env env, int fd, size_t max_bytes, size_t max_fds, int timeout_ms)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), max_bytes_(max_bytes), max_fds_(max_fds), timeout_ms_(timeout_ms) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    int w = WaitReady(fd_, POLLIN, timeout_ms_);
    if (w != 0) {
      err_ = w;
      return;
    }
    buf_.resize(max_bytes_);
    std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds), 0);
    iovec iov{buf_.data(), buf_.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n;
    do n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      err_ = errno;
      return;
    }
    buf_.resize(static_cast<size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* in = reinterpret_cast<const int*>(CMSG_DATA(c));
      for (size_t i = 0; i < count; i++) {
        int got;
        std::memcpy(&got, in + i, sizeof(int));
        // Never leak descriptors the caller did not ask for.
        if (fds_.size() < max_fds_) fds_.push_back(got);
        else close(got);
      }
    }
    truncated_ = (msg.msg_flags & MSG_CTRUNC) != 0;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(env, "recvmsg", err_).Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf_.data(), buf_.size()));
    Napi::Array fds = Napi::Array::New(env, fds_.size());
    for (size_t i = 0; i < fds_.size(); i++) fds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds_[i]));
    out.Set("fds", fds);
    out.Set("controlTruncated", Napi::Boolean::New(env, truncated_));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  size_t max_bytes_;
  size_t max_fds_;
  int timeout_ms_;
  int err_ = 0;
  bool truncated_ = false;
  std::vector<uint8_t> buf_;
  std::vector<int> fds_;
};

Napi::Value RecvWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "recvWithFds(fd, maxBytes, maxFds, timeoutMs)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  double max_bytes = info[1].As<Napi::Number>().DoubleValue();
  double max_fds = info[2].As<Napi::Number>().DoubleValue();
  int timeout_ms = info[3].As<Napi::Number>().Int32Value();
  if (!(max_bytes >= 1 && max_bytes <= kMaxRecv) || !(max_fds >= 0 && max_fds <= kMaxFds)) {
    Napi::RangeError::New(env, "recvWithFds: maxBytes 1..16 MiB, maxFds 0..16").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new RecvWorker(env, fd, static_cast<size_t>(max_bytes), static_cast<size_t>(max_fds), timeout_ms);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "closeFd(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (close(info[0].As<Napi::Number>().Int32Value()) < 0 && errno != EINTR) {
    ErrnoError(env, "close", errno).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// The kernel's view of the process at the other end of a connected Unix socket (as of connect()).
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "peerCredentials(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    ErrnoError(env, "getsockopt(SO_PEERCRED)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("sendWithFds", Napi::Function::New(env, SendWithFds, "sendWithFds"));
  exports.Set("recvWithFds", Napi::Function::New(env, RecvWithFds, "recvWithFds"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  return exports;
}

}  // namespace

NODE_API_MODULE(commy_fd_passing, Init)
