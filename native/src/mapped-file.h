// mapped-file.h — creating, opening and mapping shared files (POSIX only,
// no N-API). A MappedFile owns one fd and one MAP_SHARED mapping of the
// whole file, validated by HeaderValidator before anyone may use it.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "header.h"

namespace commy {

class MappedFile {
 public:
  ~MappedFile() { Unmap(); CloseFd(); }

  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  bool read_only() const { return read_only_; }
  const Layout& layout() const { return layout_; }

  /** Creates a file atomically: it is fully initialized under a temporary
   * name, then linked into place, so no opener can see a half-written header.
   * With overwrite=false an existing file is an error (COMMY_E_EXISTS). */
  static Status Create(const std::string& path, CreateSpec spec, uint32_t mode, bool overwrite,
                       std::unique_ptr<MappedFile>* out) {
    std::random_device rd;
    while (spec.generation == 0) spec.generation = (uint64_t{rd()} << 32) ^ rd();
    Layout layout;
    std::vector<uint8_t> image;
    Status st = HeaderValidator::Build(spec, &layout, &image);
    if (!st.ok()) return st;

    std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rd());
    int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return Errno("create " + tmp);
    auto fail = [&](Status s) {
      close(fd);
      unlink(tmp.c_str());
      return s;
    };
    if (ftruncate(fd, static_cast<off_t>(layout.total_size)) != 0) return fail(Errno("ftruncate"));
    // Reserve the blocks now (on tmpfs: the memory) so that a later store
    // into the mapping cannot die with SIGBUS because the disk filled up.
    int fa = posix_fallocate(fd, 0, static_cast<off_t>(layout.total_size));
    if (fa != 0 && fa != EOPNOTSUPP && fa != EINVAL) {
      errno = fa;
      return fail(Errno("fallocate"));
    }
    size_t written = 0;
    while (written < image.size()) {
      ssize_t n = pwrite(fd, image.data() + written, image.size() - written, static_cast<off_t>(written));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(Errno("write header"));
      }
      written += static_cast<size_t>(n);
    }
    if (overwrite) {
      if (rename(tmp.c_str(), path.c_str()) != 0) return fail(Errno("rename to " + path));
    } else {
      if (link(tmp.c_str(), path.c_str()) != 0) {
        if (errno == EEXIST) return fail(Status::Error(code::kExists, "shared file already exists: " + path));
        return fail(Errno("link to " + path));
      }
      unlink(tmp.c_str());
    }
    return Adopt(fd, false, out);
  }

  /** Opens an existing file by path. */
  static Status Open(const std::string& path, bool read_only, std::unique_ptr<MappedFile>* out) {
    int fd = open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::Error(code::kNotFound, "no such shared file: " + path);
      if (errno == EACCES && !read_only)
        return Status::Error(code::kReadOnly, "no write permission on " + path + " (open it readOnly)");
      return Errno("open " + path);
    }
    return Adopt(fd, read_only, out);
  }

  /** Maps a file from a descriptor the caller keeps (we map a duplicate). */
  static Status OpenFd(int caller_fd, bool read_only, std::unique_ptr<MappedFile>* out) {
    int flags = fcntl(caller_fd, F_GETFL);
    if (flags < 0) return Errno("fcntl(fd)");
    if (!read_only && (flags & O_ACCMODE) == O_RDONLY)
      return Status::Error(code::kReadOnly, "descriptor is read-only; open it with readOnly: true");
    int fd = fcntl(caller_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return Errno("dup(fd)");
    return Adopt(fd, read_only, out);
  }

  void Unmap() {
    if (base_ != nullptr) {
      munmap(base_, size_);
      base_ = nullptr;
    }
  }
  void CloseFd() {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

 private:
  // Takes ownership of fd: validates size and header, maps the file.
  static Status Adopt(int fd, bool read_only, std::unique_ptr<MappedFile>* out) {
    std::unique_ptr<MappedFile> f(new MappedFile());
    f->fd_ = fd;
    f->read_only_ = read_only;
    struct stat sb;
    if (fstat(fd, &sb) != 0) return Errno("fstat");
    if (!S_ISREG(sb.st_mode)) return Status::Error(code::kBadMagic, "not a regular file");
    uint64_t file_size = static_cast<uint64_t>(sb.st_size);
    if (file_size < kHeaderSize) {
      // Too small to map meaningfully: validate what is there from a copy.
      uint8_t buf[kHeaderSize] = {};
      ssize_t n = pread(fd, buf, sizeof buf, 0);
      if (n < 0) return Errno("read");
      Layout ignored;
      Status st = HeaderValidator::Validate(buf, static_cast<uint64_t>(n), &ignored);
      if (!st.ok()) return st;
      return Status::Error(code::kTruncated, "file is shorter than its header");
    }
    if (file_size > kMaxFileSize) return Status::Error(code::kCorrupt, "file larger than 1 TiB");
    int prot = read_only ? PROT_READ : (PROT_READ | PROT_WRITE);
    void* p = mmap(nullptr, file_size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return Errno("mmap");
    f->base_ = static_cast<uint8_t*>(p);
    f->size_ = file_size;
    Status st = HeaderValidator::Validate(f->base_, file_size, &f->layout_);
    if (!st.ok()) return st;
    if (file_size != f->layout_.total_size)
      return Status::Error(code::kCorrupt, "file is larger than its header says (" + std::to_string(file_size) +
                                               " > " + std::to_string(f->layout_.total_size) + ")");
    *out = std::move(f);
    return Status::Ok();
  }

  static Status Errno(const std::string& what) {
    return Status::Error(code::kIo, what + ": " + std::strerror(errno));
  }

  MappedFile() = default;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
  bool read_only_ = false;
  Layout layout_;
};

}  // namespace commy
