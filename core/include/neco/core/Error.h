#pragma once
// The exception hierarchy thrown by core/. Every message names the thing (file, argument, key)
// and the reason, so a user can act on it without a debugger.
//
//   neco::Error                  base of everything core throws on purpose
//   ├── InvalidArgumentError     a caller-supplied value is out of its domain (CLI flag, option)
//   ├── IoError                  the OS refused a read/write/create (path + errno text)
//   ├── FormatError              a file exists but its contents are malformed (path + reason)
//   ├── UnsupportedError         valid input this build or version cannot handle
//   ├── GpuError                 a CUDA kernel reported a failure status
//   ├── NetworkError             a download failed: offline, refused, HTTP error, checksum mismatch
//   └── TrainingError            training cannot go on (e.g. K consecutive non-finite steps)

#include <filesystem>
#include <stdexcept>
#include <string>

namespace neco {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

class IoError : public Error {
 public:
  IoError(const std::filesystem::path& path, const std::string& reason)
      : Error(path.string() + ": " + reason), path_(path) {}
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

class FormatError : public Error {
 public:
  FormatError(const std::filesystem::path& path, const std::string& reason)
      : Error(path.string() + ": " + reason), path_(path) {}
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

class UnsupportedError : public Error {
 public:
  using Error::Error;
};

class GpuError : public Error {
 public:
  using Error::Error;
};

class NetworkError : public Error {
 public:
  using Error::Error;
};

class TrainingError : public Error {
 public:
  using Error::Error;
};

}  // namespace neco
