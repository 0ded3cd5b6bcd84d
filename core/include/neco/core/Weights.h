#pragma once
// Official pretrained weights by name: the registry of released DINOv2 / DINOv2-with-registers /
// DINO v1 / NeCo files, and a verified, resumable download of one of them into the user's cache.
//
//   FetchResult r = fetchWeights("dinov2_vits14_reg");   // ~/.cache/neco-studio/weights/dinov2_vits14_reg.pth
//
// Torch-free and Qt-free (the studio calls it from a worker thread). A file appears at its final path
// only after it was verified; partial downloads stay next to it as `<file>.part` and are resumed.

#include "neco/core/Error.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace neco {

/// One released file. `family` is one of "dinov2", "dinov2-reg", "dino", "neco".
struct OfficialWeights {
  std::string name;         ///< what users type: "dinov2_vits14_reg", "neco_vits14_dinov2r_model"
  std::string description;  ///< one line for --list and the studio's menu
  std::string family;
  std::string url;          ///< https URL of the official release
  std::string sha256;       ///< lower-case hex; empty = not published (then other checks apply)
  std::uint64_t bytes = 0;  ///< 0 = unknown
};

/// The registry, in a stable order (DINOv2, DINOv2 with registers, DINO v1, NeCo). Never throws.
const std::vector<OfficialWeights>& officialWeights();
/// The entry named `name` (exact, case-sensitive), or nullptr. Never throws.
const OfficialWeights* findOfficialWeights(std::string_view name);

struct DownloadProgress {
  std::uint64_t received = 0;   ///< bytes of the file on disk so far, resumed bytes included
  std::uint64_t total = 0;      ///< size of the whole file; 0 = the server did not say
  std::uint64_t startedAt = 0;  ///< bytes already on disk when this transfer began (resume)
  double bytesPerSecond = 0;    ///< average over this transfer
  bool resumed = false;         ///< the server continued a partial download (HTTP 206)
};

struct FetchOptions {
  std::filesystem::path cacheDir;  ///< empty = weightsCacheDirectory()
  std::string url;                 ///< replaces the registry URL (mirrors, tests); http or https
  std::string sha256;              ///< expected SHA-256 (64 hex digits); overrides the registry's
  /// Called often from the calling thread while bytes arrive; return false to cancel (the partial
  /// file is kept for a later resume and DownloadCancelledError is thrown).
  std::function<bool(const DownloadProgress&)> progress;
  bool force = false;  ///< download again even when a verified copy (or a .part) exists
  long connectTimeoutSeconds = 15;
  long stallTimeoutSeconds = 60;  ///< give up when no byte arrives for this long (partial kept)
};

struct FetchResult {
  std::filesystem::path file;  ///< the verified file in the cache
  std::string sha256;          ///< its SHA-256 (lower-case hex), also stored in `<file>.sha256`
  std::uint64_t bytes = 0;
  bool alreadyPresent = false;  ///< nothing was downloaded: a present file verified
  bool resumed = false;         ///< an earlier partial download was continued
  /// How the content was checked, e.g. "registry sha256, zip CRC-32 of every entry" or
  /// "server sha256 (X-Linked-ETag)"; "no checksum available" when nothing could be checked.
  std::string verifiedBy;
};

/// The user cancelled through FetchOptions::progress; the partial file is kept.
class DownloadCancelledError : public Error {
 public:
  using Error::Error;
};

/// Fetches a registry entry by name, or any http(s) URL, into the cache and verifies it:
/// SHA-256 against FetchOptions::sha256, else the registry, else the server's advertised value
/// (Hugging Face `X-Linked-ETag`); torch zip files (.pth/.pt/.ckpt) must parse with every entry's
/// CRC-32 matching; safetensors must parse. A present file is re-verified (hashed) and returned
/// without network access. Cache file: `<cache>/<name><ext>` (a URL keeps its file name).
/// Throws InvalidArgumentError (unknown name, listing the close ones; bad URL or sha256),
/// NetworkError (offline — naming the host, the URL and where to put the file by hand —, HTTP
/// status, interrupted transfer, checksum mismatch), IoError (cache not writable, disk full),
/// DownloadCancelledError, UnsupportedError (a download is needed and this build has no libcurl).
FetchResult fetchWeights(const std::string& nameOrUrl, const FetchOptions& options = {});

/// Where fetchWeights puts files by default: $XDG_CACHE_HOME/neco-studio/weights
/// (~/.cache/neco-studio/weights). Does not create it. Never throws.
std::filesystem::path weightsCacheDirectory();

/// The path fetchWeights would use for `nameOrUrl` in `cacheDir` (empty = default): where to copy
/// a file obtained by hand. Throws InvalidArgumentError like fetchWeights.
std::filesystem::path weightsCachePath(const std::string& nameOrUrl, const std::filesystem::path& cacheDir = {});

/// False when this build has no HTTP client (libcurl): only files already in the cache can be fetched.
bool canDownloadWeights() noexcept;

}  // namespace neco
