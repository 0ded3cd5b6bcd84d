#pragma once
// A dataset-wide bank of patch tokens for the near/far ordering strip: the L2-normalised patch
// tokens of many images, one row per patch, each row remembering its (image, patch). A query patch
// is scored against every row by cosine similarity (a dot product of unit rows) and the k nearest
// and k farthest come back.
//
// The search is exact: the bank is scored in row chunks (one matrix-vector product each) with a
// running top-k of both ends, like dense retrieval's exactTopK (eval/Retrieval.h) but with one query
// vector instead of a query matrix (half the time for one query: docs/PATCH_BANK.md), so at most one
// chunk of scores exists at a time. The bank is stored fp32 (1.5 M x 384 = 2.3 GB): fp32 already meets the
// speed goal on the CPU (docs/PATCH_BANK.md), and reduced precision would reorder near-ties.
// When LibTorch sees a CUDA device the bank moves there once, on the first search, and the same code
// runs on device tensors.
//
// Torch-free on purpose: the studio includes this header.

#include "neco/core/FeatureExtractor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neco {

/// One scored patch of the bank.
struct PatchMatch {
  float score = 0.f;  ///< cosine similarity with the query, in [-1, 1]
  int image = -1;     ///< index of the image in the bank (order of add())
  int patch = -1;     ///< row-major patch index on that image's grid (row * gridW + column)
};

/// The k nearest (descending score) and k farthest (ascending score) patches of a query. Among tied
/// scores any may be kept; kept ties are ordered by image, then patch.
struct PatchRanking {
  std::vector<PatchMatch> nearest;
  std::vector<PatchMatch> farthest;
};

/// What a bank knows about one of its images (enough to crop a patch from the source image).
struct PatchBankImage {
  std::string name;           ///< as given to add(): a path in the studio
  int gridH = 0;
  int gridW = 0;
  int patchSize = 0;
  std::int64_t firstRow = 0;  ///< the bank row of patch 0
  int patchCount() const noexcept { return gridH * gridW; }
};

enum class PatchSearchScope {
  Bank,   ///< every image of the bank
  Image,  ///< only PatchSearchOptions::image
};

/// Rows scored per chunk by default: 64 Ki rows x (2 queries) scores = 512 KiB, cache-friendly.
inline constexpr std::int64_t kPatchBankDefaultChunkRows = 65536;

struct PatchSearchOptions {
  PatchSearchScope scope = PatchSearchScope::Bank;
  int image = -1;                 ///< the image searched (scope Image) or left out (excludeImage)
  bool excludeImage = false;      ///< scope Bank: leave out every patch of `image` (other images only)
  int excludePatch = -1;          ///< a patch of `image` left out (the query itself); -1 = none
  std::int64_t chunkRows = kPatchBankDefaultChunkRows;  ///< rows scored at once (>= 1)
};

/// Where the bank's rows live while searching.
enum class PatchBankDevice {
  Auto,  ///< CUDA when LibTorch sees a device, else the CPU
  Cpu,
};

class PatchBank {
 public:
  explicit PatchBank(PatchBankDevice device = PatchBankDevice::Auto);
  ~PatchBank();
  PatchBank(PatchBank&&) noexcept;
  PatchBank& operator=(PatchBank&&) noexcept;
  PatchBank(const PatchBank&) = delete;
  PatchBank& operator=(const PatchBank&) = delete;

  /// Appends an image's patch tokens (normalised here when features.normalised is false) and
  /// returns its image index. Throws InvalidArgumentError naming the image when the features are
  /// empty or inconsistent (tokens.size() != gridH * gridW * dim) or their dim differs from the
  /// bank's (set by the first image).
  int add(std::string name, const PatchFeatures& features);

  int imageCount() const noexcept;
  std::int64_t rowCount() const noexcept;
  int dim() const noexcept;  ///< 0 while empty
  bool empty() const noexcept { return rowCount() == 0; }
  /// Throws InvalidArgumentError for an index out of range.
  const PatchBankImage& image(int index) const;
  /// The first image with this name, or -1.
  int findImage(const std::string& name) const noexcept;
  /// Bytes held by the rows (fp32).
  std::int64_t bytes() const noexcept;
  /// "cpu" or "cuda:0": where the rows are (or will be, before the first search).
  std::string deviceName() const;

  /// Joins the rows added so far into one block and moves it to the search device now (seconds for
  /// millions of rows); otherwise the first search does it. Call it on the thread that built the bank.
  void prepare() const;

  /// The k nearest and k farthest rows to `query` (dim floats, expected unit-length: scores are dot
  /// products) within the scope; k larger than the candidates returns all of them. Exact.
  /// Thread-safe (searches may run concurrently with each other, not with add()).
  /// Throws InvalidArgumentError for dim != this->dim(), k < 1, an empty bank, a scope/exclusion
  /// image out of range, or chunkRows < 1.
  PatchRanking search(const float* query, int dim, int k, const PatchSearchOptions& options = {}) const;

  /// search() with the bank's own row (image, patch) as the query; that row is left out.
  /// Throws InvalidArgumentError for an image or patch out of range.
  PatchRanking searchPatch(int image, int patch, int k, PatchSearchOptions options = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The k nearest and farthest patches of one image to its own patch `queryPatch` (left out), on the
/// CPU. Throws InvalidArgumentError for empty features, a patch out of range or k < 1.
PatchRanking rankPatches(const PatchFeatures& features, int queryPatch, int k);

}  // namespace neco
