#pragma once
// Crash-safe replacement of one file: write a temporary file next to the target, fsync it, rename
// it over the target, fsync the directory. A crash or a failed write at any point leaves either the
// old file or the complete new one, never a torn mix (RELIABILITY.md, promise 1).

#include <cstddef>
#include <filesystem>
#include <string>

namespace neco::formats {

/// Writes a new version of `finalPath` through `.<name>.tmp-<pid>-<random>` in the same folder.
/// The target is untouched until commit() renames the temporary over it; a writer destroyed
/// without a successful commit() removes its temporary. Not copyable or movable.
///
/// NOTE: after any write or fsync failure the writer is dead (later calls throw IoError); per
/// RELIABILITY.md an fsync is never retried: drop the writer and start over.
class AtomicFileWriter {
 public:
  /// Creates the temporary (O_CREAT | O_EXCL, mode 0644 before umask). Throws IoError naming
  /// `finalPath` and the OS reason (missing folder, permissions, ...).
  explicit AtomicFileWriter(std::filesystem::path finalPath);
  ~AtomicFileWriter();  ///< never throws; removes the temporary unless committed
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends `size` bytes, retrying short writes and EINTR. Throws IoError naming the final path
  /// and the OS reason (e.g. ENOSPC), or when the writer is already committed or failed.
  void write(const void* data, std::size_t size);
  /// fsync, close, rename over the final path, fsync the folder. Throws IoError on any failure;
  /// the final path is unchanged unless the failure is the last folder fsync (then the new file is
  /// in place but its durability is not guaranteed, which the message says).
  void commit();

  const std::filesystem::path& finalPath() const noexcept { return finalPath_; }
  const std::filesystem::path& tempPath() const noexcept { return tempPath_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  void discard() noexcept;

  std::filesystem::path finalPath_;
  std::filesystem::path tempPath_;
  int fd_ = -1;
  bool committed_ = false;
  bool failed_ = false;
};

/// Replaces `path` with `size` bytes from `data` through an AtomicFileWriter. Throws IoError.
void writeFileAtomically(const std::filesystem::path& path, const void* data, std::size_t size);

}  // namespace neco::formats
