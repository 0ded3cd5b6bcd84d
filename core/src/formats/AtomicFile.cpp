#include "formats/AtomicFile.h"

#include "neco/core/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neco::formats {

namespace {

std::string randomSuffix() {
  // Uniqueness, not secrecy: O_EXCL catches the rare collision and we retry with a new name.
  std::random_device device;
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", static_cast<unsigned>(device()), static_cast<unsigned>(device()));
  return text;
}

std::filesystem::path parentOf(const std::filesystem::path& path) {
  const std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path finalPath) : finalPath_(std::move(finalPath)) {
  if (finalPath_.filename().empty()) throw IoError(finalPath_, "not a file path");
  const std::string name = finalPath_.filename().string();
  for (int attempt = 0; attempt < 16; ++attempt) {
    tempPath_ = parentOf(finalPath_) / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-" + randomSuffix());
    fd_ = ::open(tempPath_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ >= 0) return;
    if (errno != EEXIST) break;
  }
  const int error = errno;
  tempPath_.clear();
  throw IoError(finalPath_, std::string("cannot create a temporary file next to it: ") + std::strerror(error));
}

AtomicFileWriter::~AtomicFileWriter() {
  discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !tempPath_.empty()) {
    ::unlink(tempPath_.c_str());
    tempPath_.clear();
  }
}

void AtomicFileWriter::fail(const std::string& what, int error) {
  failed_ = true;
  discard();
  throw IoError(finalPath_, what + ": " + std::strerror(error));
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  if (committed_ || failed_) throw IoError(finalPath_, "write after commit or after a failed write");
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_, p, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    if (written == 0) fail("cannot write", EIO);  // no progress and no errno: do not spin
    p += written;
    size -= static_cast<std::size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  if (committed_ || failed_) throw IoError(finalPath_, "commit after commit or after a failed write");
  if (::fsync(fd_) != 0) fail("cannot flush to disk (fsync)", errno);
  const int fd = fd_;
  fd_ = -1;
  // close() can report a deferred write error (NFS); treat it like a failed write.
  if (::close(fd) != 0) fail("cannot close", errno);
  if (::rename(tempPath_.c_str(), finalPath_.c_str()) != 0) fail("cannot rename the temporary file over it", errno);
  committed_ = true;
  // Make the rename itself durable: without the folder fsync a crash may bring back the old file.
  const int dir = ::open(parentOf(finalPath_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    throw IoError(finalPath_, std::string("written, but cannot open its folder to fsync: ") + std::strerror(errno));
  const int syncResult = ::fsync(dir);
  const int syncError = errno;
  ::close(dir);
  if (syncResult != 0)
    throw IoError(finalPath_, std::string("written, but fsync of its folder failed: ") + std::strerror(syncError));
}

void writeFileAtomically(const std::filesystem::path& path, const void* data, std::size_t size) {
  AtomicFileWriter writer(path);
  writer.write(data, size);
  writer.commit();
}

}  // namespace neco::formats
