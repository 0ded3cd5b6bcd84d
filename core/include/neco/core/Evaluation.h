#pragma once
// Dense evaluation (issue 6, METHOD.md §4), torch-free for the CLI and the studio: overclustering
// (§4.2), dense nearest-neighbour retrieval (§4.3) and the linear segmentation probe (§4.1).
//
// Overclustering: every validation image resized to inputSize² (bilinear, antialiased), backbone
// patch tokens after the final norm; all tokens standardised per dimension, PCA to 50 dimensions,
// Euclidean k-means (k-means++ seeding, restarts) for each K and seed; each image's cluster ids on
// its token grid nearest-upsampled to maskSize², the ground truth nearest-resized to inputSize² then
// to maskSize² (as the reference's two resizes); pixels equal to the ignore index dropped; clusters
// matched to classes by Hungarian matching on 1 - IoU when K equals the class count, else by the
// reference's many-to-one precision rule; mIoU as the reference (all classes) and the conventional
// present-class mIoU, each the mean over the seeds.

#include "neco/core/DemoDataset.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Image.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace neco {

/// Labelled images to evaluate on.
class EvaluationData {
 public:
  virtual ~EvaluationData() = default;
  virtual std::size_t size() const = 0;
  virtual RgbImage image(std::size_t index) const = 0;
  /// Class indices [0, classCount()) and the ignore index, the image's size.
  virtual LabelImage mask(std::size_t index) const = 0;
  virtual std::string id(std::size_t index) const = 0;
  virtual int classCount() const = 0;
  virtual int ignoreIndex() const = 0;
  virtual std::vector<std::string> classNames() const = 0;  ///< may be empty
  virtual std::string describe() const = 0;                 ///< "voc val (1449 images)"
};

/// The demo dataset's validation scenes rendered in memory (7 classes, ignore 255); no files.
std::unique_ptr<EvaluationData> demoEvaluationData(const DemoDatasetOptions& options = {});

/// A labelled dataset on disk ("voc", "ade20k", "cityscapes", "demo"; data/ImageDatasets.h layouts),
/// Cityscapes' label ids mapped to the 19 train ids. `limit` > 0 keeps the first `limit` images.
/// Throws what opening the dataset throws, and InvalidArgumentError for an unlabelled kind.
std::unique_ptr<EvaluationData> openEvaluationData(const std::string& kind, const std::filesystem::path& root,
                                                   const std::string& split, std::size_t limit = 0);

struct OverclusterOptions {
  int inputSize = 448;
  int maskSize = 100;
  std::vector<int> ks;  ///< empty: the class count
  int seeds = 5;        ///< k-means seeds 0 .. seeds-1; results are their mean
  int pcaDims = 50;
  int iterations = 100;
  int restarts = 5;
};

struct OverclusterRun {
  int k = 0;
  std::string matching;               ///< "hungarian" (K == classes) or "many-to-one precision"
  std::vector<double> miouPerSeed;    ///< the reference's mIoU of each seed
  double miou = 0, miouStd = 0;       ///< their mean and (population) standard deviation
  double miouPresent = 0;             ///< the conventional mIoU, mean over seeds
  double pixelAccuracy = 0;           ///< mean over seeds
  std::vector<double> iou;            ///< per class, mean over seeds
  std::vector<std::int64_t> confusion;  ///< seed 0 after matching, classes x classes (ground truth rows)
  std::vector<double> imageMiou;      ///< seed 0: each image's reference mIoU over its present classes
  /// seed 0: each image's matched prediction at maskSize² (class indices), for views.
  std::vector<LabelImage> predictions;
};

struct OverclusterResult {
  std::string model, data;
  std::vector<std::string> imageIds, classNames;
  int classes = 0, ignoreIndex = 255;
  OverclusterOptions options;
  std::vector<OverclusterRun> runs;  ///< one per K
  /// Each image's ground truth at maskSize² as scored (the reference's two nearest resizes), so views
  /// and per-image confusion use exactly the pixels the numbers count.
  std::vector<LabelImage> targets;
  double featureSeconds = 0, clusterSeconds = 0;
  std::int64_t tokens = 0;
};

/// Runs the protocol. `progress(done, total, stage)` follows feature extraction and clustering.
/// Throws InvalidArgumentError (bad options: a K larger than the token count, sizes below one patch),
/// and what reading the data throws (naming the file).
OverclusterResult evaluateOvercluster(const FeatureExtractor& model, const EvaluationData& data,
                                      const OverclusterOptions& options,
                                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {});

/// The protocol on given token maps (tests, cached features): tokens[i] holds image i's gridH x gridW
/// x dim values, masks[i] its ground truth (already at any size; resized as above).
OverclusterResult overclusterTokens(const std::vector<std::vector<float>>& tokens, int gridH, int gridW, int dim,
                                    const std::vector<LabelImage>& masks, int classes, int ignoreIndex,
                                    const OverclusterOptions& options,
                                    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {});

// ---- dense nearest-neighbour retrieval (Hummingbird, METHOD.md §4.3) -------------------------------

/// The demo dataset's train or val scenes in memory (the retrieval memory comes from "train").
std::unique_ptr<EvaluationData> demoEvaluationData(const DemoDatasetOptions& options, const std::string& split);

struct RetrievalOptions {
  int inputSize = 0;                 ///< 0: 36 patches for /14 (504), 32 for /16 (512), as Hummingbird's runs
  int k = 30;                        ///< neighbours
  double temperature = 0.02;         ///< softmax temperature of the label transfer
  int augmentationEpochs = 1;        ///< passes over the memory images
  std::int64_t memorySize = 0;       ///< 0: every patch; else the bounded-memory rule per image
  double fraction = 1.0;             ///< of the memory images (1/128, 1/64, 1/8, 1)
  std::vector<std::uint64_t> seeds{42};  ///< one memory (subset, augmentation draws) per seed; mIoU averaged
};

struct RetrievalRun {
  std::uint64_t seed = 0;
  std::int64_t memoryImages = 0, memoryPatches = 0;
  double miou = 0, miouPresent = 0, pixelAccuracy = 0;
  std::vector<double> iou;
  double memorySeconds = 0, searchSeconds = 0;
  double queryPatchesPerSecond = 0;
};

struct RetrievalResult {
  std::string model, memoryData, queryData;
  std::vector<std::string> imageIds, classNames;
  int classes = 0, ignoreIndex = 255, inputSize = 0;
  RetrievalOptions options;
  std::vector<RetrievalRun> runs;       ///< one per seed
  double miou = 0, miouStd = 0;         ///< over the seeds
  std::vector<std::int64_t> confusion;  ///< first seed, Hungarian-matched, classes x classes
  std::vector<double> imageMiou;        ///< first seed, present-class mIoU per query image
  std::vector<LabelImage> predictions;  ///< first seed, matched, at inputSize²
  std::vector<LabelImage> targets;      ///< each query's ground truth at inputSize² as scored
};

/// Builds the memory bank from `memory` (augmented, L2-normalised patch features with soft labels),
/// then labels every patch of `queries` from its k nearest memory patches (exact search), upsamples
/// and scores with Hungarian matching. Throws InvalidArgumentError (bad options, class counts that
/// differ), and what reading the data throws.
RetrievalResult evaluateRetrieval(const FeatureExtractor& model, const EvaluationData& memory, const EvaluationData& queries,
                                  const RetrievalOptions& options,
                                  const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {});

std::string retrievalJson(const RetrievalResult& result);
std::string retrievalCsv(const RetrievalResult& result);
std::string retrievalMarkdown(const RetrievalResult& result);

// ---- linear segmentation probe (METHOD.md §4.1) ---------------------------------------------------

struct LinearProbeOptions {
  int inputSize = 448;          ///< images (and training crops) resized to inputSize²
  int maskSize = 100;           ///< logits and targets for training and the first evaluation
  int epochs = 25;
  int decayEpoch = 20;          ///< learning rate x0.1 from this epoch on (StepLR)
  double learningRate = 0.01, momentum = 0.9, weightDecay = 1e-4;
  int batchSize = 128;
  bool augment = true;          ///< joint RandomResizedCrop(scale 0.8-1, ratio 3/4-4/3) + horizontal flip
  /// Backbone passes per training image. 0: a fresh augmented view every epoch, as the reference (the
  /// backbone runs epochs x images times); V > 0: V views drawn once, their tokens cached and cycled
  /// (the backbone runs V x images times; exact when augment is off, where one view is all there is).
  int cachedViews = 0;
  int validateEvery = 0;        ///< > 0: validation mIoU (100²) after every n-th epoch, recorded as a curve
  std::uint64_t seed = 0;
};

struct LinearProbeResult {
  std::string model, trainData, valData;
  std::vector<std::string> imageIds, classNames;  ///< of the validation images
  int classes = 0, ignoreIndex = 255, inputSize = 0;
  LinearProbeOptions options;
  /// at maskSize² (the reference's validation): no matching, the head's classes are the classes
  double miou = 0, miouPresent = 0, pixelAccuracy = 0;
  std::vector<double> iou;
  /// at each validation mask's own size (logits bilinearly upsampled to it)
  double miouFull = 0, miouFullPresent = 0, pixelAccuracyFull = 0;
  std::vector<double> iouFull;
  std::vector<std::int64_t> confusion;  ///< at maskSize², classes x classes (ground truth rows)
  std::vector<double> imageMiou;        ///< present-class mIoU per validation image at maskSize²
  std::vector<LabelImage> predictions;  ///< at maskSize²
  std::vector<LabelImage> targets;      ///< the ground truth at maskSize² as scored
  std::vector<double> epochLoss;        ///< mean training cross-entropy per epoch
  std::vector<std::pair<int, double>> validationCurve;  ///< (epoch, mIoU at maskSize²) when validateEvery > 0
  std::int64_t backbonePasses = 0;      ///< training views the backbone ran on
  double featureSeconds = 0, trainSeconds = 0, evalSeconds = 0;
};

/// Trains a 1x1-conv head on the frozen backbone's patch tokens of `train`, then scores `val`.
/// Throws InvalidArgumentError (bad options, class counts that differ), and what reading the data throws.
LinearProbeResult evaluateLinearProbe(const FeatureExtractor& model, const EvaluationData& train, const EvaluationData& val,
                                      const LinearProbeOptions& options,
                                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {});

std::string linearProbeJson(const LinearProbeResult& result);
std::string linearProbeCsv(const LinearProbeResult& result);
std::string linearProbeMarkdown(const LinearProbeResult& result);

/// SHA-256 of a file (lower-case hex), to name the checkpoint an evaluation used. Throws IoError.
std::string fileSha256(const std::filesystem::path& file);

/// The result as JSON (config, per-K numbers, per-class IoU, confusion matrix, per-image mIoU).
std::string overclusterJson(const OverclusterResult& result);
/// One CSV row per (K, class): k, matching, class, iou; then per K the mIoU rows.
std::string overclusterCsv(const OverclusterResult& result);
/// A Markdown table: K, matching, mIoU (reference) ± std, mIoU (present classes), pixel accuracy.
std::string overclusterMarkdown(const OverclusterResult& result);

}  // namespace neco
