#pragma once
// One HTTP(S) GET into a `.part` file through libcurl, resuming from the bytes already there with a
// `Range: bytes=N-` request. Knows nothing about weights or checksums: Weights.cpp verifies and
// commits the result. Only compiled when the build found libcurl (NECO_HAVE_CURL=1).

#include "neco/core/Error.h"
#include "neco/core/Weights.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace neco::net {

struct HttpDownloadRequest {
  std::string url;
  std::filesystem::path partFile;  ///< created if missing; its bytes are resumed
  long connectTimeoutSeconds = 15;
  long stallTimeoutSeconds = 60;                          ///< abort when fewer than 1 byte/s arrives for this long
  std::function<bool(const DownloadProgress&)> progress;  ///< false = cancel
};

struct HttpDownloadResult {
  std::uint64_t bytes = 0;       ///< size of partFile afterwards (the whole file)
  bool resumed = false;          ///< the server answered 206 to continue earlier bytes
  std::string advertisedSha256;  ///< lower-case hex from `X-Linked-ETag` (Hugging Face LFS), or empty
};

/// The host could not be reached at all (name resolution, connection refused, connect timeout):
/// the machine is probably offline. Weights.cpp turns it into the user-facing message.
class HostUnreachableError : public NetworkError {
 public:
  HostUnreachableError(std::string host, const std::string& reason)
      : NetworkError("cannot reach " + host + ": " + reason), host_(std::move(host)), reason_(reason) {}
  const std::string& host() const noexcept { return host_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string host_;
  std::string reason_;
};

/// Downloads `request.url` into `request.partFile` (append on HTTP 206, restart on 200, fsync at
/// the end). The part file is locked (flock) against a second process downloading the same file.
/// Throws HostUnreachableError, NetworkError (HTTP status >= 400, connection lost, stalled, TLS),
/// IoError (cannot open/write/lock the part file, disk full), DownloadCancelledError. On every
/// error except a protocol violation, the bytes received so far stay in the part file.
HttpDownloadResult downloadToPartFile(const HttpDownloadRequest& request);

/// The host part of an http(s) URL ("huggingface.co"), or the URL itself when it has none.
std::string hostOfUrl(const std::string& url);

}  // namespace neco::net
