#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for download tests: serves byte blobs at
// paths from a background thread, one connection at a time, `Connection: close`. Honours
// `Range: bytes=N-` with 206 / 416, and injects the faults a real download meets: a connection
// closed after K bytes (truncated download), a flipped byte (corrupted), an HTTP error status, a
// slow drip, a server that ignores Range, and Hugging Face's `X-Linked-ETag` SHA-256 header.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace neco::test {

struct ServedFile {
  std::vector<std::uint8_t> body;
  int status = 200;  ///< e.g. 404 or 403: sent with a short text body instead
  /// Close the connection once the byte at this absolute file offset would be sent (truncation).
  std::uint64_t closeAtOffset = std::numeric_limits<std::uint64_t>::max();
  /// XOR this absolute file offset with 0xFF while sending (corruption); max() = none.
  std::uint64_t flipByteAt = std::numeric_limits<std::uint64_t>::max();
  bool ignoreRange = false;   ///< always answer 200 with the whole file
  std::size_t dripChunk = 0;  ///< > 0: send this many bytes, then sleep dripDelay
  std::chrono::milliseconds dripDelay{0};
  std::string linkedEtag;  ///< sent as `X-Linked-ETag: "<value>"` when not empty
};

/// A file served as is (no faults).
inline ServedFile servedBytes(std::vector<std::uint8_t> body) {
  ServedFile file;
  file.body = std::move(body);
  return file;
}

struct ServedRequest {
  std::string method;
  std::string path;
  std::string range;  ///< the Range header's value, or empty
};

class LoopbackHttpServer {
 public:
  /// Binds 127.0.0.1:0 and starts serving. Throws std::runtime_error when sockets fail.
  LoopbackHttpServer();
  ~LoopbackHttpServer();  ///< stops the thread (within ~50 ms) and closes the socket
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  /// Serves `file` at `path` ("/x.pth"), replacing what was there (also between two downloads).
  void serve(const std::string& path, ServedFile file);
  std::uint16_t port() const noexcept { return port_; }
  std::string url(const std::string& path) const;
  /// Every request received so far, in order.
  std::vector<ServedRequest> requests() const;

 private:
  void run();
  void handle(int client);

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, ServedFile> files_;
  std::vector<ServedRequest> requests_;
  std::thread thread_;
};

/// A loopback port with nothing listening on it (bound, then closed): connecting is refused.
std::uint16_t closedLoopbackPort();

}  // namespace neco::test
