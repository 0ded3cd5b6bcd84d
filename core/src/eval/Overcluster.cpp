// The overclustering protocol (METHOD.md §4.2) behind neco/core/Evaluation.h.
#include "eval/Clustering.h"
#include "eval/LabelMaps.h"
#include "eval/SegmentationMetrics.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>

namespace neco {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Cluster ids on the token grid -> out² by torch's `nearest` (floor(dst * grid / out)).
std::vector<std::int32_t> upsampleIds(const std::int64_t* ids, int gridH, int gridW, int out) {
  std::vector<std::int32_t> r(static_cast<std::size_t>(out) * out);
  for (int y = 0; y < out; ++y) {
    const int gy = static_cast<int>(static_cast<std::int64_t>(y) * gridH / out);
    for (int x = 0; x < out; ++x) {
      const int gx = static_cast<int>(static_cast<std::int64_t>(x) * gridW / out);
      r[static_cast<std::size_t>(y) * out + x] = static_cast<std::int32_t>(ids[gy * gridW + gx]);
    }
  }
  return r;
}

void checkOptions(const OverclusterOptions& o) {
  if (o.maskSize < 1 || o.seeds < 1 || o.pcaDims < 1 || o.iterations < 1 || o.restarts < 1) {
    throw InvalidArgumentError("overclustering: mask size, seeds, PCA dimensions, iterations and restarts must be >= 1");
  }
  for (int k : o.ks) {
    if (k < 1) throw InvalidArgumentError("overclustering: K must be >= 1, got " + std::to_string(k));
  }
}

}  // namespace

OverclusterResult overclusterTokens(const std::vector<std::vector<float>>& tokens, int gridH, int gridW, int dim,
                                    const std::vector<LabelImage>& masks, int classes, int ignoreIndex,
                                    const OverclusterOptions& options,
                                    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  checkOptions(options);
  if (tokens.empty() || tokens.size() != masks.size() || gridH < 1 || gridW < 1 || dim < 1 || classes < 1) {
    throw InvalidArgumentError("overclustering: need one token map and one mask per image, and at least one class");
  }
  const std::int64_t G = static_cast<std::int64_t>(gridH) * gridW;
  for (const auto& t : tokens) {
    if (static_cast<std::int64_t>(t.size()) != G * dim) throw InvalidArgumentError("overclustering: a token map has the wrong size");
  }
  const auto t0 = Clock::now();
  OverclusterResult result;
  result.classes = classes;
  result.ignoreIndex = ignoreIndex;
  result.options = options;
  const std::int64_t N = static_cast<std::int64_t>(tokens.size()) * G;
  result.tokens = N;
  at::Tensor x = at::empty({N, dim}, at::kFloat);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::memcpy(x[static_cast<std::int64_t>(i) * G].data_ptr<float>(), tokens[i].data(), tokens[i].size() * sizeof(float));
  }
  const eval::Standardiser scaler = eval::fitStandardiser(x);
  x = scaler.apply(x);
  const eval::Pca pca = eval::fitPca(x, std::min<int>(options.pcaDims, dim));
  x = pca.apply(x);
  std::vector<LabelImage> gts;
  gts.reserve(masks.size());
  for (const LabelImage& m : masks) gts.push_back(eval::referenceMaskResize(m, options.inputSize, options.maskSize));
  std::vector<int> ks = options.ks.empty() ? std::vector<int>{classes} : options.ks;
  const std::size_t total = ks.size() * static_cast<std::size_t>(options.seeds);
  std::size_t done = 0;
  for (int k : ks) {
    if (k > N) throw InvalidArgumentError("overclustering: K = " + std::to_string(k) + " exceeds the " + std::to_string(N) + " tokens");
    OverclusterRun run;
    run.k = k;
    run.matching = k == classes ? "hungarian" : "many-to-one precision";
    run.iou.assign(static_cast<std::size_t>(classes), 0.0);
    for (int seed = 0; seed < options.seeds; ++seed) {
      if (progress) progress(done, total, "k-means K=" + std::to_string(k) + " seed " + std::to_string(seed));
      eval::KMeansOptions ko;
      ko.k = k;
      ko.iterations = options.iterations;
      ko.restarts = options.restarts;
      ko.seed = static_cast<std::uint64_t>(seed);
      const eval::KMeansResult km = eval::kmeans(x, ko);
      const at::Tensor ids = km.assignment.contiguous();
      std::vector<std::vector<std::int32_t>> predicted(gts.size());
      eval::ConfusionMatrix cm(classes, k, ignoreIndex);
      for (std::size_t i = 0; i < gts.size(); ++i) {
        predicted[i] = upsampleIds(ids.data_ptr<std::int64_t>() + static_cast<std::int64_t>(i) * G, gridH, gridW, options.maskSize);
        cm.add(gts[i].labels.data(), predicted[i].data(), predicted[i].size());
      }
      const std::vector<int> match = k == classes ? eval::hungarianMatch(cm) : eval::precisionMatch(cm);
      const eval::ConfusionMatrix matched = cm.relabelled(match);
      const eval::SegmentationScores s = eval::scoreSegmentation(matched);
      run.miouPerSeed.push_back(s.miouReference);
      run.miouPresent += s.miouPresent / options.seeds;
      run.pixelAccuracy += s.pixelAccuracy / options.seeds;
      for (int c = 0; c < classes; ++c) run.iou[static_cast<std::size_t>(c)] += s.iou[static_cast<std::size_t>(c)] / options.seeds;
      if (seed == 0) {
        run.confusion = matched.counts();
        for (std::size_t i = 0; i < gts.size(); ++i) {
          LabelImage p;
          p.width = p.height = options.maskSize;
          p.labels.resize(predicted[i].size());
          for (std::size_t j = 0; j < predicted[i].size(); ++j) {
            p.labels[j] = static_cast<std::uint8_t>(match[static_cast<std::size_t>(predicted[i][j])]);
          }
          std::vector<std::int32_t> classIds(p.labels.begin(), p.labels.end());
          eval::ConfusionMatrix one(classes, classes, ignoreIndex);
          one.add(gts[i].labels.data(), classIds.data(), classIds.size());
          run.imageMiou.push_back(eval::scoreSegmentation(one).miouPresent);
          run.predictions.push_back(std::move(p));
        }
      }
      ++done;
    }
    const eval::MeanStd spread = eval::meanAndStd(run.miouPerSeed);
    run.miou = spread.mean;
    run.miouStd = spread.std;
    result.runs.push_back(std::move(run));
  }
  if (progress) progress(total, total, "done");
  result.targets = std::move(gts);
  result.clusterSeconds = secondsSince(t0);
  return result;
}

OverclusterResult evaluateOvercluster(const FeatureExtractor& model, const EvaluationData& data,
                                      const OverclusterOptions& options,
                                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  checkOptions(options);
  const ModelDescription md = model.describe();
  if (options.inputSize < md.patchSize) {
    throw InvalidArgumentError("overclustering: input size " + std::to_string(options.inputSize) + " is below one " +
                               std::to_string(md.patchSize) + "-pixel patch");
  }
  if (data.size() == 0) throw InvalidArgumentError("overclustering: the evaluation data has no image");
  const auto t0 = Clock::now();
  std::vector<std::vector<float>> tokens;
  std::vector<LabelImage> masks;
  std::vector<std::string> ids;
  int gridH = 0, gridW = 0, dim = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (progress) progress(i, data.size(), "features");
    const RgbImage image = data.image(i);
    LabelImage mask = data.mask(i);
    if (mask.width != image.width || mask.height != image.height) {
      throw FormatError(data.id(i), "its mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                                        " but the image " + std::to_string(image.width) + "x" + std::to_string(image.height));
    }
    PatchFeatures f = model.extract(image, options.inputSize, /*normalise=*/false);
    gridH = f.gridH;
    gridW = f.gridW;
    dim = f.dim;
    tokens.push_back(std::move(f.tokens));
    masks.push_back(std::move(mask));
    ids.push_back(data.id(i));
  }
  const double featureSeconds = secondsSince(t0);
  OverclusterResult r = overclusterTokens(tokens, gridH, gridW, dim, masks, data.classCount(), data.ignoreIndex(),
                                          options, progress);
  r.model = md.name + " (" + md.weights + ")";
  r.data = data.describe();
  r.imageIds = std::move(ids);
  r.classNames = data.classNames();
  r.featureSeconds = featureSeconds;
  return r;
}

std::string overclusterJson(const OverclusterResult& r) {
  nlohmann::json runs = nlohmann::json::array();
  for (const OverclusterRun& run : r.runs) {
    nlohmann::json perClass = nlohmann::json::array();
    for (int c = 0; c < r.classes; ++c) {
      perClass.push_back({{"class", c},
                          {"name", eval::className(r.classNames, c)},
                          {"iou", run.iou[static_cast<std::size_t>(c)]}});
    }
    nlohmann::json images = nlohmann::json::array();
    for (std::size_t i = 0; i < run.imageMiou.size() && i < r.imageIds.size(); ++i) {
      images.push_back({{"id", r.imageIds[i]}, {"miou_present", run.imageMiou[i]}});
    }
    runs.push_back({{"k", run.k},
                    {"matching", run.matching},
                    {"miou", run.miou},
                    {"miou_std", run.miouStd},
                    {"miou_per_seed", run.miouPerSeed},
                    {"miou_present_classes", run.miouPresent},
                    {"pixel_accuracy", run.pixelAccuracy},
                    {"per_class", perClass},
                    {"confusion_seed0", run.confusion},
                    {"images_seed0", images}});
  }
  const OverclusterOptions& o = r.options;
  nlohmann::json j = {{"protocol", "overcluster"},
                      {"model", r.model},
                      {"data", r.data},
                      {"classes", r.classes},
                      {"ignore_index", r.ignoreIndex},
                      {"images", r.imageIds.size()},
                      {"tokens", r.tokens},
                      {"config",
                       {{"input_size", o.inputSize},
                        {"mask_size", o.maskSize},
                        {"seeds", o.seeds},
                        {"pca_dims", o.pcaDims},
                        {"iterations", o.iterations},
                        {"restarts", o.restarts},
                        {"standardise", true},
                        {"init", "k-means++"}}},
                      {"miou", r.runs.empty() ? 0.0 : r.runs.front().miou},
                      {"runs", runs},
                      {"seconds", {{"features", r.featureSeconds}, {"clustering", r.clusterSeconds}}}};
  return j.dump(2) + "\n";
}

std::string overclusterCsv(const OverclusterResult& r) {
  std::ostringstream s;
  s << "k,matching,class,name,iou\n";
  for (const OverclusterRun& run : r.runs) {
    for (int c = 0; c < r.classes; ++c) {
      const std::string name = eval::className(r.classNames, c);
      s << run.k << "," << run.matching << "," << c << "," << name << "," << run.iou[static_cast<std::size_t>(c)] << "\n";
    }
    s << run.k << "," << run.matching << ",miou,," << run.miou << "\n";
    s << run.k << "," << run.matching << ",miou_present_classes,," << run.miouPresent << "\n";
  }
  return s.str();
}

std::string overclusterMarkdown(const OverclusterResult& r) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << "Overclustering of " << r.model << " on " << r.data << " (" << r.options.seeds << " seeds, input "
    << r.options.inputSize << ", masks " << r.options.maskSize << ")\n\n";
  s << "| K | matching | mIoU (reference, all " << r.classes << " classes) | mIoU (present classes) | pixel accuracy |\n";
  s << "|---|---|---|---|---|\n";
  for (const OverclusterRun& run : r.runs) {
    s << "| " << run.k << " | " << run.matching << " | " << 100 * run.miou << " ± " << 100 * run.miouStd << " | "
      << 100 * run.miouPresent << " | " << 100 * run.pixelAccuracy << " |\n";
  }
  return s.str();
}

}  // namespace neco
