#include "neco/core/PatchBank.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <utility>

namespace neco {

namespace {

/// A contiguous run of bank rows searched as one memory (scopes and image exclusions are row ranges).
struct RowRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

struct Candidate {
  float score;
  std::int64_t row;
};

/// The k largest and k smallest of memory (M, D) x query (D) -> CPU (2, k) scores and row indices,
/// scored `chunk` rows at a time. One matrix-vector product per chunk: the search is memory-bound,
/// and a vector product streams the rows once, where eval::exactTopK's matrix product with a
/// [q; -q] query pair packs each chunk first and runs ~2x slower for one query (docs/PATCH_BANK.md).
/// Every chunk keeps its own top-k of both ends and the candidates are folded into a running top-k,
/// so only one chunk of scores (plus a few k candidates) exists at a time. Exact.
std::pair<at::Tensor, at::Tensor> chunkedNearFar(const at::Tensor& memory, const at::Tensor& query, int k,
                                                 std::int64_t chunk) {
  // the running candidates of each end; folded to one top-k whenever kMergeEvery chunks have piled up
  constexpr std::size_t kMergeEvery = 32;
  struct End {
    bool largest;
    std::vector<at::Tensor> values, rows;
    void fold(int k) {
      const at::Tensor v = at::cat(values), r = at::cat(rows);
      auto [best, pos] = v.topk(std::min<std::int64_t>(k, v.numel()), 0, largest, /*sorted=*/true);
      values = {best};
      rows = {r.index_select(0, pos)};
    }
  } ends[2] = {{true, {}, {}}, {false, {}, {}}};
  const std::int64_t M = memory.size(0);
  for (std::int64_t m0 = 0; m0 < M; m0 += chunk) {
    const std::int64_t m1 = std::min(M, m0 + chunk);
    const at::Tensor scores = at::mv(memory.slice(0, m0, m1), query);
    const int kk = static_cast<int>(std::min<std::int64_t>(k, m1 - m0));
    for (End& end : ends) {
      auto [v, i] = scores.topk(kk, 0, end.largest, /*sorted=*/false);
      end.values.push_back(v);
      end.rows.push_back(i + m0);
      if (end.values.size() >= kMergeEvery) end.fold(k);
    }
  }
  for (End& end : ends) end.fold(k);
  return {at::stack({ends[0].values[0], ends[1].values[0]}).to(at::kCPU).contiguous(),
          at::stack({ends[0].rows[0], ends[1].rows[0]}).to(at::kCPU).contiguous()};
}

}  // namespace

struct PatchBank::Impl {
  PatchBankDevice device = PatchBankDevice::Auto;
  std::vector<PatchBankImage> images;
  std::int64_t rows = 0;
  int dim = 0;
  // Rows arrive per image and are joined into one (rows, dim) tensor on the first search after an add
  // (no doubling-growth copies while building; one join, then the move to the device).
  mutable std::mutex mutex;
  mutable std::vector<at::Tensor> blocks;
  mutable at::Tensor joined;

  at::Device searchDevice() const {
    return device == PatchBankDevice::Auto && torch::cuda::is_available() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  }

  at::Tensor bank() const {
    std::lock_guard lock(mutex);
    if (!blocks.empty()) {
      if (joined.defined()) blocks.insert(blocks.begin(), joined.to(at::kCPU));
      at::Tensor all = blocks.size() == 1 ? blocks.front() : at::cat(blocks, 0);
      blocks.clear();
      joined = all.to(searchDevice());
    }
    return joined;
  }

  std::pair<int, int> locate(std::int64_t row) const {
    const auto it = std::upper_bound(images.begin(), images.end(), row,
                                     [](std::int64_t r, const PatchBankImage& im) { return r < im.firstRow; });
    const int image = static_cast<int>(it - images.begin()) - 1;
    return {image, static_cast<int>(row - images[static_cast<std::size_t>(image)].firstRow)};
  }
};

PatchBank::PatchBank(PatchBankDevice device) : impl_(std::make_unique<Impl>()) { impl_->device = device; }
PatchBank::~PatchBank() = default;
PatchBank::PatchBank(PatchBank&&) noexcept = default;
PatchBank& PatchBank::operator=(PatchBank&&) noexcept = default;

int PatchBank::add(std::string name, const PatchFeatures& f) {
  const std::string what = "patch bank: image '" + name + "' ";
  if (f.empty() || f.gridH <= 0 || f.gridW <= 0 || f.dim <= 0) throw InvalidArgumentError(what + "has no patch tokens");
  const std::int64_t count = static_cast<std::int64_t>(f.gridH) * f.gridW;
  if (static_cast<std::int64_t>(f.tokens.size()) != count * f.dim) {
    throw InvalidArgumentError(what + "has " + std::to_string(f.tokens.size()) + " token values, expected " +
                               std::to_string(f.gridH) + " x " + std::to_string(f.gridW) + " x " + std::to_string(f.dim));
  }
  if (impl_->dim != 0 && f.dim != impl_->dim) {
    throw InvalidArgumentError(what + "has dim " + std::to_string(f.dim) + ", the bank holds dim " +
                               std::to_string(impl_->dim) + " (features of another model?)");
  }
  at::Tensor block = at::from_blob(const_cast<float*>(f.tokens.data()), {count, f.dim}, at::kFloat).clone();
  // cosine = dot product only for unit rows; the clamp keeps an all-zero token at zero
  if (!f.normalised) block = block / block.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  {
    std::lock_guard lock(impl_->mutex);
    impl_->blocks.push_back(std::move(block));
  }
  impl_->images.push_back({std::move(name), f.gridH, f.gridW, f.patchSize, impl_->rows});
  impl_->rows += count;
  impl_->dim = f.dim;
  return static_cast<int>(impl_->images.size()) - 1;
}

void PatchBank::prepare() const {
  if (!empty()) impl_->bank();
}

int PatchBank::imageCount() const noexcept { return static_cast<int>(impl_->images.size()); }
std::int64_t PatchBank::rowCount() const noexcept { return impl_->rows; }
int PatchBank::dim() const noexcept { return impl_->dim; }
std::int64_t PatchBank::bytes() const noexcept { return impl_->rows * impl_->dim * static_cast<std::int64_t>(sizeof(float)); }
std::string PatchBank::deviceName() const { return impl_->searchDevice().str(); }

const PatchBankImage& PatchBank::image(int index) const {
  if (index < 0 || index >= imageCount()) {
    throw InvalidArgumentError("patch bank: image " + std::to_string(index) + " out of range (" +
                               std::to_string(imageCount()) + " images)");
  }
  return impl_->images[static_cast<std::size_t>(index)];
}

int PatchBank::findImage(const std::string& name) const noexcept {
  for (std::size_t i = 0; i < impl_->images.size(); ++i) {
    if (impl_->images[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

PatchRanking PatchBank::search(const float* query, int dim, int k, const PatchSearchOptions& o) const {
  if (empty()) throw InvalidArgumentError("patch bank: search in an empty bank");
  if (query == nullptr || dim != impl_->dim) {
    throw InvalidArgumentError("patch bank: query of dim " + std::to_string(dim) + " for a bank of dim " + std::to_string(impl_->dim));
  }
  if (k < 1) throw InvalidArgumentError("patch bank: k = " + std::to_string(k) + ", must be >= 1");
  if (o.chunkRows < 1) throw InvalidArgumentError("patch bank: chunkRows must be >= 1");
  const bool needsImage = o.scope == PatchSearchScope::Image || o.excludeImage || o.excludePatch >= 0;
  if (needsImage) image(o.image);  // range check, throws
  if (o.excludePatch >= 0 && o.excludePatch >= image(o.image).patchCount()) {
    throw InvalidArgumentError("patch bank: excluded patch " + std::to_string(o.excludePatch) + " out of range");
  }

  std::vector<RowRange> ranges;
  if (o.scope == PatchSearchScope::Image) {
    const PatchBankImage& im = image(o.image);
    ranges.push_back({im.firstRow, im.firstRow + im.patchCount()});
  } else if (o.excludeImage) {
    const PatchBankImage& im = image(o.image);
    ranges.push_back({0, im.firstRow});
    ranges.push_back({im.firstRow + im.patchCount(), impl_->rows});
  } else {
    ranges.push_back({0, impl_->rows});
  }
  const std::int64_t excludedRow = o.excludePatch >= 0 ? image(o.image).firstRow + o.excludePatch : -1;

  const at::Tensor bank = impl_->bank();
  const at::Tensor q = at::from_blob(const_cast<float*>(query), {dim}, at::kFloat).to(bank.device());
  std::vector<Candidate> near, far;
  for (const RowRange& r : ranges) {
    if (r.size() <= 0) continue;
    const bool holdsExcluded = excludedRow >= r.begin && excludedRow < r.end;
    const int kr = static_cast<int>(std::min<std::int64_t>(k + (holdsExcluded ? 1 : 0), r.size()));
    const auto [sims, idx] = chunkedNearFar(bank.slice(0, r.begin, r.end), q, kr, o.chunkRows);
    const float* s = sims.data_ptr<float>();
    const std::int64_t* i = idx.data_ptr<std::int64_t>();
    for (int j = 0; j < kr; ++j) {
      if (r.begin + i[j] != excludedRow) near.push_back({s[j], r.begin + i[j]});
      if (r.begin + i[kr + j] != excludedRow) far.push_back({s[kr + j], r.begin + i[kr + j]});
    }
  }
  const auto finish = [&](std::vector<Candidate>& c, bool descending) {
    std::sort(c.begin(), c.end(), [descending](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return descending ? a.score > b.score : a.score < b.score;
      return a.row < b.row;
    });
    std::vector<PatchMatch> out;
    for (std::size_t j = 0; j < c.size() && static_cast<int>(out.size()) < k; ++j) {
      const auto [imageIndex, patch] = impl_->locate(c[j].row);
      out.push_back({c[j].score, imageIndex, patch});
    }
    return out;
  };
  return {finish(near, true), finish(far, false)};
}

PatchRanking PatchBank::searchPatch(int imageIndex, int patch, int k, PatchSearchOptions options) const {
  const PatchBankImage& im = image(imageIndex);
  if (patch < 0 || patch >= im.patchCount()) {
    throw InvalidArgumentError("patch bank: patch " + std::to_string(patch) + " out of range for image '" + im.name +
                               "' (" + std::to_string(im.patchCount()) + " patches)");
  }
  at::Tensor row;
  {
    const at::Tensor bank = impl_->bank();
    row = bank[im.firstRow + patch].to(at::kCPU).contiguous();
  }
  options.image = imageIndex;
  options.excludePatch = patch;
  return search(row.data_ptr<float>(), impl_->dim, k, options);
}

PatchRanking rankPatches(const PatchFeatures& features, int queryPatch, int k) {
  PatchBank bank(PatchBankDevice::Cpu);
  bank.add("image", features);
  PatchSearchOptions options;
  options.scope = PatchSearchScope::Image;
  return bank.searchPatch(0, queryPatch, k, options);
}

}  // namespace neco
