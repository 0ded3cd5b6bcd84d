#include "LoopbackHttpServer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace neco::test {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool sendAll(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;  // the client went away (cancel, error): stop quietly
    p += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

/// Reads the request head (up to the blank line); empty on timeout or a closed connection.
std::string readHead(int fd) {
  std::string head;
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    head.append(buffer, static_cast<std::size_t>(n));
  }
  return head;
}

std::string headerValue(const std::string& head, const std::string& name) {
  std::string lowerHead = head;
  std::transform(lowerHead.begin(), lowerHead.end(), lowerHead.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string key = "\r\n" + name + ":";
  const std::size_t at = lowerHead.find(key);
  if (at == std::string::npos) return {};
  std::size_t begin = at + key.size();
  const std::size_t end = head.find("\r\n", begin);
  while (begin < end && head[begin] == ' ') ++begin;
  return head.substr(begin, end - begin);
}

const char* reasonOf(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 416:
      return "Range Not Satisfiable";
    default:
      return "Error";
  }
}

}  // namespace

LoopbackHttpServer::LoopbackHttpServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) fail("socket");
  const int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind 127.0.0.1:0");
  if (::listen(listener_, 16) != 0) fail("listen");
  socklen_t length = sizeof address;
  if (::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) fail("getsockname");
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listener_);
}

void LoopbackHttpServer::serve(const std::string& path, ServedFile file) {
  std::lock_guard<std::mutex> lock(mutex_);
  files_[path] = std::move(file);
}

std::string LoopbackHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ServedRequest> LoopbackHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void LoopbackHttpServer::run() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    timeval timeout{5, 0};  // a client that never sends its request cannot block the server forever
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    handle(client);
    ::close(client);
  }
}

void LoopbackHttpServer::handle(int client) {
  const std::string head = readHead(client);
  if (head.empty()) return;
  const std::size_t firstSpace = head.find(' ');
  const std::size_t secondSpace = head.find(' ', firstSpace + 1);
  ServedRequest request{head.substr(0, firstSpace), head.substr(firstSpace + 1, secondSpace - firstSpace - 1),
                        headerValue(head, "range")};
  ServedFile file;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    const auto it = files_.find(request.path.substr(0, request.path.find('?')));
    if (it != files_.end()) {
      file = it->second;
      found = true;
    }
  }
  const int errorStatus = !found ? 404 : file.status != 200 ? file.status : 0;
  if (errorStatus != 0) {
    const std::string body = std::to_string(errorStatus) + " " + reasonOf(errorStatus) + "\n";
    const std::string response = "HTTP/1.1 " + std::to_string(errorStatus) + " " + reasonOf(errorStatus) +
                                 "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
    sendAll(client, response.data(), response.size());
    return;
  }

  const std::uint64_t size = file.body.size();
  std::uint64_t from = 0;
  int status = 200;
  if (!file.ignoreRange && request.range.rfind("bytes=", 0) == 0 && request.range.back() == '-') {
    from = std::strtoull(request.range.c_str() + 6, nullptr, 10);
    status = from < size ? 206 : 416;
  }
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reasonOf(status) + "\r\n";
  if (!file.linkedEtag.empty()) response += "X-Linked-ETag: \"" + file.linkedEtag + "\"\r\n";
  if (status == 416) {
    response += "Content-Range: bytes */" + std::to_string(size) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    sendAll(client, response.data(), response.size());
    return;
  }
  if (status == 206)
    response += "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(size - 1) + "/" +
                std::to_string(size) + "\r\n";
  response += "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
              std::to_string(size - from) + "\r\nConnection: close\r\n\r\n";
  if (!sendAll(client, response.data(), response.size())) return;

  if (file.flipByteAt < size) file.body[file.flipByteAt] ^= 0xFF;
  const std::uint64_t end = std::min(size, file.closeAtOffset);
  const std::size_t chunk = file.dripChunk > 0 ? file.dripChunk : 64 * 1024;
  for (std::uint64_t offset = from; offset < end && !stop_;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, end - offset));
    if (!sendAll(client, file.body.data() + offset, n)) return;
    offset += n;
    if (file.dripChunk > 0) std::this_thread::sleep_for(file.dripDelay);
  }
  // Falling out here before `size` closes the connection mid-body: the client sees a truncated file.
}

std::uint16_t closedLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in address = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind 127.0.0.1:0");
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);  // never listened: a connect to it is refused (the port may be reused, rarely)
  return ntohs(address.sin_port);
}

}  // namespace neco::test
