// fetchWeights: resolve a name to a URL and a cache path, reuse a present verified file, else
// download into `<file>.part` (resumable), verify, and only then rename it into place.
#include "neco/core/Weights.h"

#include "formats/AtomicFile.h"
#include "formats/MappedFile.h"
#include "formats/Safetensors.h"
#include "formats/Sha256.h"
#include "formats/ZipArchive.h"

#if NECO_HAVE_CURL
#include "net/HttpDownload.h"
#endif
#if NECO_NET_HAVE_SPDLOG
#include <spdlog/spdlog.h>
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace neco {
namespace {

namespace fs = std::filesystem;

void logInfo(const std::string& message) {
#if NECO_NET_HAVE_SPDLOG
  spdlog::info("{}", message);
#else
  (void)message;
#endif
}

void logWarning(const std::string& message) {
#if NECO_NET_HAVE_SPDLOG
  spdlog::warn("{}", message);
#else
  (void)message;
#endif
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool isHttpUrl(const std::string& s) {
  const std::string l = lower(s.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

bool isSha256Hex(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

/// The last path segment of a URL, reduced to [A-Za-z0-9._+-] so that it can never leave the cache.
std::string fileNameOfUrl(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const std::size_t scheme = path.find("://");
  const std::size_t pathStart = path.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (pathStart == std::string::npos) return {};
  path.erase(0, pathStart);
  std::string name = path.substr(path.rfind('/') + 1);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '+') c = '_';
  while (!name.empty() && name.front() == '.') name.front() = '_';  // no hidden files, no "." or ".."
  return name;
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

[[noreturn]] void throwUnknownName(const std::string& name) {
  std::vector<std::pair<std::size_t, std::string>> close;
  const std::string needle = lower(name);
  for (const OfficialWeights& w : officialWeights()) {
    const std::size_t distance = editDistance(needle, w.name);
    const bool contains = !needle.empty() && w.name.find(needle) != std::string::npos;
    if (contains || distance <= std::max<std::size_t>(3, needle.size() / 4)) close.emplace_back(distance, w.name);
  }
  std::sort(close.begin(), close.end());
  std::string message = "unknown weights '" + name + "'";
  if (!close.empty()) {
    message += "; did you mean ";
    for (std::size_t i = 0; i < close.size() && i < 6; ++i) message += (i ? ", " : "") + close[i].second;
    message += "?";
  } else {
    message += "; known names:";
    for (const OfficialWeights& w : officialWeights()) message += " " + w.name;
  }
  throw InvalidArgumentError(message + " (or pass an http(s) URL)");
}

/// What to fetch and where it goes.
struct Target {
  std::string label;  ///< the registry name, or the URL's file name
  std::string url;
  const OfficialWeights* entry = nullptr;  ///< null for a plain URL
  std::string expectedSha256;              ///< lower-case hex or empty
  std::string expectedSource;              ///< "registry sha256", "sha256 option"
  fs::path file;
  fs::path part() const { return fs::path(file.string() + ".part"); }
  fs::path sidecar() const { return fs::path(file.string() + ".sha256"); }
};

Target resolveTarget(const std::string& nameOrUrl, const fs::path& cacheDirOption, const std::string& urlOption,
                     const std::string& sha256Option) {
  Target t;
  const fs::path cacheDir = cacheDirOption.empty() ? weightsCacheDirectory() : cacheDirOption;
  if (!urlOption.empty() && !isHttpUrl(urlOption))
    throw InvalidArgumentError("download URL '" + urlOption + "' must start with http:// or https://");
  if (isHttpUrl(nameOrUrl)) {
    t.url = urlOption.empty() ? nameOrUrl : urlOption;
    t.label = fileNameOfUrl(nameOrUrl);
    if (t.label.empty()) throw InvalidArgumentError("URL '" + nameOrUrl + "' does not end in a file name");
    t.file = cacheDir / t.label;
  } else {
    t.entry = findOfficialWeights(nameOrUrl);
    if (!t.entry) throwUnknownName(nameOrUrl);
    t.label = t.entry->name;
    t.url = urlOption.empty() ? t.entry->url : urlOption;
    // Named after the registry entry (the official file names repeat across folders on Hugging Face),
    // with the official extension whatever mirror serves it: one name, one cache path.
    t.file = cacheDir / (t.entry->name + lower(fs::path(fileNameOfUrl(t.entry->url)).extension().string()));
    if (!t.entry->sha256.empty()) {
      t.expectedSha256 = t.entry->sha256;
      t.expectedSource = "registry sha256";
    }
  }
  if (!sha256Option.empty()) {
    if (!isSha256Hex(sha256Option))
      throw InvalidArgumentError("sha256 '" + sha256Option + "' is not 64 hexadecimal digits");
    t.expectedSha256 = lower(sha256Option);
    t.expectedSource = "expected sha256 (option)";
  }
  return t;
}

bool isTorchZipName(const fs::path& file) {
  const std::string ext = lower(file.extension().string());
  return ext == ".pth" || ext == ".pt" || ext == ".ckpt";
}

/// Checks that need no published checksum; returns the problem, or "" (and names the check in `by`).
std::string contentProblem(const fs::path& file, const fs::path& displayName, std::vector<std::string>& by) {
  const std::string ext = lower(displayName.extension().string());
  try {
    if (isTorchZipName(displayName)) {
      const formats::ByteView bytes = formats::mapFile(file);
      const formats::ZipArchive zip = formats::ZipArchive::parse(bytes, displayName);
      for (const formats::ZipEntry& entry : zip.entries()) {
        if (!zip.crcMatches(entry))
          return "zip CRC-32 of entry " + formats::quotedEntryName(entry.name) + " does not match";
      }
      by.push_back("zip CRC-32 of every entry");
    } else if (ext == ".safetensors") {
      try {
        formats::parseSafetensors(formats::mapFile(file), displayName);
      } catch (const UnsupportedError&) {
        // Intact, but holds a dtype NeCo cannot load: the loader reports that, not the download.
      }
      by.push_back("safetensors structure");
    }
  } catch (const FormatError& e) {
    return std::string("not a valid ") + (ext == ".safetensors" ? "safetensors" : "torch zip") + " file (" + e.what() +
           ")";
  } catch (const UnsupportedError& e) {
    return std::string("unreadable zip (") + e.what() + ")";
  }
  return {};
}

std::string readSidecarSha256(const fs::path& sidecar) {
  std::ifstream in(sidecar);
  std::string hex;
  if (!(in >> hex)) return {};
  hex = lower(hex);
  return isSha256Hex(hex) ? hex : std::string();
}

void writeSidecar(const Target& t, const std::string& sha256) {
  const std::string line = sha256 + "  " + t.file.filename().string() + "\n";  // `sha256sum -c` format
  formats::writeFileAtomically(t.sidecar(), line.data(), line.size());
}

std::string joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "no checksum available" : s;
}

/// A file already at the final path: returns the result when it verifies, else nullopt (re-download).
std::optional<FetchResult> verifyPresent(const Target& t) {
  std::error_code ec;
  if (!fs::is_regular_file(t.file, ec)) return std::nullopt;
  FetchResult r;
  r.file = t.file;
  r.bytes = fs::file_size(t.file, ec);
  r.alreadyPresent = true;
  logInfo("verifying the present " + t.file.string());
  r.sha256 = formats::sha256OfFile(t.file);
  std::vector<std::string> by;
  std::string problem;
  const std::string recorded = readSidecarSha256(t.sidecar());
  if (t.entry && t.entry->bytes != 0 && r.bytes != t.entry->bytes) {
    problem = "size " + std::to_string(r.bytes) + " bytes, expected " + std::to_string(t.entry->bytes);
  } else if (!t.expectedSha256.empty()) {
    if (r.sha256 == t.expectedSha256)
      by.push_back(t.expectedSource);
    else
      problem = "sha256 " + r.sha256 + ", expected " + t.expectedSha256 + " (" + t.expectedSource + ")";
  } else if (!recorded.empty() && recorded == r.sha256) {
    by.push_back("sha256 recorded at download (" + t.sidecar().filename().string() + ")");
  } else {
    problem = contentProblem(t.file, t.file.filename(), by);  // e.g. a file copied here by hand
  }
  if (!problem.empty()) {
    logWarning("the present " + t.file.string() + " does not verify (" + problem + "); downloading it again");
    return std::nullopt;
  }
  if (recorded != r.sha256) writeSidecar(t, r.sha256);
  r.verifiedBy = joined(by);
  return r;
}

#if NECO_HAVE_CURL
[[noreturn]] void rejectDownload(const Target& t, const std::string& problem) {
  std::error_code ignored;
  fs::remove(t.part(), ignored);  // corrupt bytes cannot be resumed into a good file
  throw NetworkError("checksum mismatch: " + t.label + " downloaded from " + t.url + " is corrupt (" + problem +
                     "); the partial file was removed, run again to download it afresh");
}

/// Verifies `<file>.part`; returns the sha256 and fills `by`. Throws NetworkError after removing it.
std::string verifyDownload(const Target& t, const std::string& advertisedSha256, std::vector<std::string>& by) {
  const std::string sha = formats::sha256OfFile(t.part());
  std::error_code ec;
  const std::uint64_t bytes = fs::file_size(t.part(), ec);
  if (t.entry && t.entry->bytes != 0 && bytes != t.entry->bytes)
    rejectDownload(t, "size " + std::to_string(bytes) + " bytes, expected " + std::to_string(t.entry->bytes));
  std::string expected = t.expectedSha256;
  std::string source = t.expectedSource;
  if (expected.empty() && !advertisedSha256.empty()) {
    expected = advertisedSha256;
    source = "server sha256 (X-Linked-ETag)";
  }
  if (!expected.empty()) {
    if (sha != expected) rejectDownload(t, "sha256 " + sha + ", expected " + expected + " (" + source + ")");
    by.push_back(source);
  }
  const std::string problem = contentProblem(t.part(), t.file.filename(), by);
  if (!problem.empty()) rejectDownload(t, problem);
  return sha;
}

/// Renames the verified part over the final path and makes the rename durable.
void commitDownload(const Target& t) {
  if (::rename(t.part().c_str(), t.file.c_str()) != 0)
    throw IoError(t.file, std::string("cannot move the verified download into place: ") + std::strerror(errno));
  const int dir = ::open(t.file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);  // best effort: the file itself was fsynced before the rename
    ::close(dir);
  }
}

net::HttpDownloadResult download(const Target& t, const FetchOptions& options) {
  net::HttpDownloadRequest request;
  request.url = t.url;
  request.partFile = t.part();
  request.connectTimeoutSeconds = options.connectTimeoutSeconds;
  request.stallTimeoutSeconds = options.stallTimeoutSeconds;
  request.progress = options.progress;
  try {
    return net::downloadToPartFile(request);
  } catch (const net::HostUnreachableError& e) {
    throw NetworkError("cannot download " + t.label + ": this machine looks offline (cannot reach " + e.host() + ": " +
                       e.reason() + "). Fetch " + t.url + " on a machine with internet access and copy it to " +
                       t.file.string() + "; fetching " + t.label + " again then verifies that copy.");
  } catch (const NetworkError& e) {
    throw NetworkError("cannot download " + t.label + ": " + e.what());
  }
}
#endif

}  // namespace

fs::path weightsCacheDirectory() {
  // Mirrors neco::cacheDirectory() (Paths.cpp), which lives in neco_core: neco_net also builds alone.
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  fs::path base;
  if (xdg && *xdg && fs::path(xdg).is_absolute()) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    std::error_code ec;
    base = (home && *home ? fs::path(home) : fs::temp_directory_path(ec)) / ".cache";
  }
  return base / "neco-studio" / "weights";
}

fs::path weightsCachePath(const std::string& nameOrUrl, const fs::path& cacheDir) {
  return resolveTarget(nameOrUrl, cacheDir, {}, {}).file;
}

bool canDownloadWeights() noexcept {
  return NECO_HAVE_CURL != 0;
}

FetchResult fetchWeights(const std::string& nameOrUrl, const FetchOptions& options) {
  const Target t = resolveTarget(nameOrUrl, options.cacheDir, options.url, options.sha256);
  std::error_code ec;
  fs::create_directories(t.file.parent_path(), ec);
  if (ec) throw IoError(t.file.parent_path(), "cannot create the weights cache folder: " + ec.message());

  if (!options.force) {
    if (std::optional<FetchResult> present = verifyPresent(t)) {
      logInfo(t.label + ": verified copy present at " + t.file.string() + " (" + present->verifiedBy + ")");
      return *present;
    }
  } else {
    fs::remove(t.part(), ec);
  }

#if NECO_HAVE_CURL
  logInfo("downloading " + t.label + " from " + t.url + " to " + t.file.string());
  const net::HttpDownloadResult downloaded = download(t, options);
  std::vector<std::string> by;
  FetchResult r;
  r.sha256 = verifyDownload(t, downloaded.advertisedSha256, by);
  commitDownload(t);
  writeSidecar(t, r.sha256);
  r.file = t.file;
  r.bytes = downloaded.bytes;
  r.resumed = downloaded.resumed;
  r.verifiedBy = joined(by);
  if (by.empty()) logWarning(t.label + ": no checksum is known for " + t.url + "; the file was not verified");
  logInfo(t.label + ": " + t.file.string() + " verified (" + r.verifiedBy + ")");
  return r;
#else
  throw UnsupportedError("this build has no HTTP client (libcurl), so it cannot download " + t.label + "; fetch " +
                         t.url + " by hand and copy it to " + t.file.string());
#endif
}

}  // namespace neco
