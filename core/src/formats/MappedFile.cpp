#include "formats/MappedFile.h"

#include "neco/core/Error.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neco::formats {

namespace {

struct Mapping {
  void* address = nullptr;
  std::size_t length = 0;
  ~Mapping() {
    if (address != nullptr && length > 0) ::munmap(address, length);
  }
};

}  // namespace

ByteView mapFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw IoError(path, std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(path, "not a regular file");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->length = static_cast<std::size_t>(st.st_size);
  if (mapping->length > 0) {
    void* address = ::mmap(nullptr, mapping->length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw IoError(path, std::string("cannot map: ") + std::strerror(e));
    }
    mapping->address = address;
  }
  ::close(fd);
  ByteView view;
  view.data = static_cast<const std::uint8_t*>(mapping->address);
  view.size = mapping->length;
  view.owner = std::move(mapping);
  return view;
}

}  // namespace neco::formats
