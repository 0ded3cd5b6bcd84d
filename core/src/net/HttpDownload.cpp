#include "net/HttpDownload.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neco::net {
namespace {

using Clock = std::chrono::steady_clock;

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::uint64_t> parseUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

bool isSha256Hex(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// Owns the part file descriptor: opened, locked, positioned at its end.
class PartFile {
 public:
  explicit PartFile(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);  // never write through a link
    if (fd_ < 0) throw IoError(path, std::string("cannot open the partial download: ") + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd_);
      if (error == EWOULDBLOCK)
        throw IoError(path, "another process is downloading this file right now; wait for it to finish");
      throw IoError(path, std::string("cannot lock the partial download: ") + std::strerror(error));
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
      const int error = errno;
      ::close(fd_);
      throw IoError(path, std::string("cannot read the partial download's size: ") + std::strerror(error));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~PartFile() {
    // A failure before the first byte (offline, HTTP error) leaves no empty .part behind; unlinked
    // while the lock is held, so no other process is writing it.
    if (size_ == 0 && !keep_) ::unlink(path_.c_str());
    if (fd_ >= 0) ::close(fd_);  // also releases the lock
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  std::uint64_t size() const noexcept { return size_; }

  /// Returns 0 on success, else errno (the caller aborts the transfer and reports it later).
  int append(const char* data, std::size_t n) noexcept {
    while (n > 0) {
      const ssize_t written = ::write(fd_, data, n);
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (written == 0) return EIO;
      data += written;
      n -= static_cast<std::size_t>(written);
      size_ += static_cast<std::uint64_t>(written);
    }
    return 0;
  }

  int truncateToZero() noexcept {
    if (::ftruncate(fd_, 0) != 0) return errno;
    if (::lseek(fd_, 0, SEEK_SET) < 0) return errno;
    size_ = 0;
    return 0;
  }

  /// fsync at the end of a successful transfer; the file is kept even when empty.
  void sync() {
    if (::fsync(fd_) != 0) fail("cannot flush the download to disk (fsync)", errno);
    keep_ = true;
  }

  [[noreturn]] void fail(const std::string& what, int error) const {
    throw IoError(path_, what + ": " + std::strerror(error));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  bool keep_ = false;
};

/// Everything the libcurl callbacks see during one transfer.
struct Transfer {
  CURL* curl = nullptr;
  PartFile* part = nullptr;
  const HttpDownloadRequest* request = nullptr;

  std::uint64_t startOffset = 0;  ///< bytes on disk when the request was sent
  Clock::time_point startTime = Clock::now();

  // Headers of the response being received (reset at each status line: redirects have their own).
  long status = 0;
  std::string reason;
  std::optional<std::uint64_t> contentLength;
  std::optional<std::uint64_t> rangeStart;
  std::optional<std::uint64_t> rangeTotal;  ///< the N of "Content-Range: bytes a-b/N" or "bytes */N"
  std::string linkedSha256;                 ///< kept across redirects: Hugging Face sends it on the 302

  // Decided at the first body byte.
  bool bodyStarted = false;
  bool writingBody = false;
  bool resumed = false;
  std::uint64_t total = 0;  ///< whole file size, 0 = unknown

  int writeErrno = 0;
  std::string protocolError;
  bool cancelled = false;

  DownloadProgress progress() const {
    DownloadProgress p;
    p.received = part->size();
    p.total = total;
    p.startedAt = startOffset;
    p.resumed = resumed;
    const double seconds = std::chrono::duration<double>(Clock::now() - startTime).count();
    const std::uint64_t thisTransfer = p.received > p.startedAt ? p.received - p.startedAt : 0;
    p.bytesPerSecond = seconds > 0 ? static_cast<double>(thisTransfer) / seconds : 0.0;
    return p;
  }
};

void parseHeaderLine(Transfer& t, std::string_view line) {
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (redirects, 100 Continue)
    t.status = 0;
    t.reason.clear();
    t.contentLength.reset();
    t.rangeStart.reset();
    t.rangeTotal.reset();
    const std::size_t space = line.find(' ');
    if (space != std::string_view::npos) {
      const std::string rest = trim(line.substr(space + 1));
      const std::size_t codeEnd = rest.find(' ');
      if (auto code = parseUnsigned(std::string_view(rest).substr(0, codeEnd))) t.status = static_cast<long>(*code);
      if (codeEnd != std::string::npos) t.reason = trim(std::string_view(rest).substr(codeEnd + 1));
    }
    return;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string key = lower(trim(line.substr(0, colon)));
  const std::string value = trim(line.substr(colon + 1));
  if (key == "content-length") {
    t.contentLength = parseUnsigned(value);
  } else if (key == "content-range") {  // "bytes 100-999/1000" or "bytes */1000"
    const std::string v = lower(value);
    if (v.rfind("bytes ", 0) != 0) return;
    const std::size_t slash = v.find('/');
    if (slash == std::string::npos) return;
    t.rangeTotal = parseUnsigned(std::string_view(v).substr(slash + 1));
    const std::string_view span = std::string_view(v).substr(6, slash - 6);
    const std::size_t dash = span.find('-');
    if (dash != std::string_view::npos) t.rangeStart = parseUnsigned(span.substr(0, dash));
  } else if (key == "x-linked-etag") {  // Hugging Face LFS: the file's SHA-256, quoted
    std::string v = lower(value);
    if (v.rfind("w/", 0) == 0) v.erase(0, 2);
    v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
    if (isSha256Hex(v)) t.linkedSha256 = v;
  }
}

std::size_t onHeader(char* buffer, std::size_t size, std::size_t count, void* user) {
  parseHeaderLine(*static_cast<Transfer*>(user), std::string_view(buffer, size * count));
  return size * count;
}

/// At the first body byte of the final response: append (206), restart (200), or ignore (errors).
bool startBody(Transfer& t) {
  t.bodyStarted = true;
  if (t.status == 206) {
    if (!t.rangeStart || *t.rangeStart != t.startOffset) {
      t.protocolError =
          "the server answered a different range than asked (asked from byte " + std::to_string(t.startOffset) + ")";
      return false;
    }
    t.writingBody = true;
    t.resumed = t.startOffset > 0;
    t.total = t.rangeTotal ? *t.rangeTotal : (t.contentLength ? t.startOffset + *t.contentLength : 0);
    return true;
  }
  if (t.status == 200) {
    if (t.part->size() > 0) {  // the server ignored the Range header: start again from byte 0
      if (int error = t.part->truncateToZero()) {
        t.writeErrno = error;
        return false;
      }
    }
    t.startOffset = 0;
    t.writingBody = true;
    t.total = t.contentLength ? *t.contentLength : 0;
    return true;
  }
  t.writingBody = false;  // an error page: never mixed into the file
  return true;
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (!t.bodyStarted && !startBody(t)) return 0;  // 0 makes libcurl stop with CURLE_WRITE_ERROR
  if (!t.writingBody) return n;
  if (int error = t.part->append(data, n)) {
    t.writeErrno = error;
    return 0;
  }
  return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  Transfer& t = *static_cast<Transfer*>(user);
  if (!t.request->progress) return 0;
  if (t.bodyStarted && !t.writingBody) return 0;  // an error page is arriving
  if (!t.request->progress(t.progress())) {
    t.cancelled = true;
    return 1;
  }
  return 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

void setCommonOptions(CURL* curl, const HttpDownloadRequest& request, Transfer& t, char* errorBuffer) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms; the bitmask forms are deprecated
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "neco-studio");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, request.connectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request.stallTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
}

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

/// Turns a failed curl_easy_perform into the exception the caller documents.
[[noreturn]] void throwTransferError(const Transfer& t, CURLcode code, const char* errorBuffer,
                                     const HttpDownloadRequest& request) {
  const std::string detail = errorBuffer[0] ? errorBuffer : curl_easy_strerror(code);
  if (code == CURLE_ABORTED_BY_CALLBACK || t.cancelled)
    throw DownloadCancelledError("download of " + request.url + " cancelled; " + mib(t.part->size()) + " kept in " +
                                 request.partFile.string() + " for a later resume");
  if (t.writeErrno != 0) t.part->fail("cannot write the download", t.writeErrno);
  if (!t.protocolError.empty()) throw NetworkError(request.url + ": " + t.protocolError);
  const std::string kept = t.part->size() > 0 ? "; " + mib(t.part->size()) + " kept in " + request.partFile.string() +
                                                    ", run again to resume"
                                              : "";
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      throw HostUnreachableError(hostOfUrl(request.url), detail);
    case CURLE_OPERATION_TIMEDOUT:
      if (!t.bodyStarted && t.status == 0) throw HostUnreachableError(hostOfUrl(request.url), detail);
      throw NetworkError("download of " + request.url + " stalled (no data for " +
                         std::to_string(request.stallTimeoutSeconds) + " s)" + kept);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      throw NetworkError("connection lost while downloading " + request.url + " after " + mib(t.part->size()) +
                         (t.total ? " of " + mib(t.total) : std::string()) + " (" + detail + ")" + kept);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      throw NetworkError("secure connection to " + hostOfUrl(request.url) + " failed (" + detail +
                         "); check the system CA certificates (package ca-certificates) and any proxy");
    default:
      throw NetworkError("download of " + request.url + " failed: " + detail + kept);
  }
}

}  // namespace

std::string hostOfUrl(const std::string& url) {
  std::size_t begin = url.find("://");
  begin = begin == std::string::npos ? 0 : begin + 3;
  std::size_t end = url.find_first_of("/?#", begin);
  std::string authority = url.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  const std::size_t at = authority.rfind('@');  // never echo credentials
  if (at != std::string::npos) authority.erase(0, at + 1);
  return authority.empty() ? url : authority;
}

HttpDownloadResult downloadToPartFile(const HttpDownloadRequest& request) {
  initCurlOnce();
  PartFile part(request.partFile);
  // Two rounds at most: a 416 for a part that is not exactly the whole file discards it and restarts.
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw NetworkError("cannot initialise libcurl");
    Transfer t;
    t.curl = curl.get();
    t.part = &part;
    t.request = &request;
    t.startOffset = part.size();
    char errorBuffer[CURL_ERROR_SIZE] = {};
    setCommonOptions(curl.get(), request, t, errorBuffer);
    const std::string range = std::to_string(t.startOffset) + "-";
    if (t.startOffset > 0) curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());

    const CURLcode code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) throwTransferError(t, code, errorBuffer, request);

    if (t.status == 416 && t.startOffset > 0) {
      // "Range Not Satisfiable": the part already holds the whole file, or it is longer than it.
      if (t.rangeTotal && *t.rangeTotal == t.startOffset) {
        part.sync();
        return {part.size(), true, t.linkedSha256};
      }
      if (int error = part.truncateToZero()) part.fail("cannot truncate the partial download", error);
      continue;
    }
    if (t.status >= 400 || (t.status != 200 && t.status != 206)) {
      throw NetworkError("HTTP " + std::to_string(t.status) + (t.reason.empty() ? "" : " " + t.reason) + " for " +
                         request.url);
    }
    if (!t.bodyStarted && !startBody(t)) throwTransferError(t, CURLE_WRITE_ERROR, errorBuffer, request);
    if (t.total != 0 && part.size() != t.total) {
      throw NetworkError("download of " + request.url + " ended at " + std::to_string(part.size()) + " of " +
                         std::to_string(t.total) + " bytes; run again to resume");
    }
    part.sync();
    if (request.progress) request.progress(t.progress());  // the final 100 %
    return {part.size(), t.resumed, t.linkedSha256};
  }
  throw NetworkError(request.url + ": the server refused the resume range twice");
}

}  // namespace neco::net
