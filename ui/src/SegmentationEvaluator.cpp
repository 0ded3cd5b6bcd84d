#include "neco/ui/SegmentationEvaluator.h"

#include "neco/core/Error.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace neco::ui {
namespace {

using Clock = std::chrono::steady_clock;

// Thrown from the progress callback to end a job early (the evaluator is being destroyed); core's
// evaluations unwind through it like through any error.
struct Cancelled {};

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <typename T>
bool sameOwner(const std::weak_ptr<T>& a, const std::shared_ptr<T>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

std::string modelName(const FeatureExtractor& model) {
  const ModelDescription md = model.describe();
  return md.name + " (" + md.weights + ")";
}

}  // namespace

struct SegmentationEvaluator::TokenCache {
  std::weak_ptr<const FeatureExtractor> model;  // identity only: an old model is not kept alive
  EvaluationDataChoice data;
  int inputSize = 0;
  std::vector<std::vector<float>> tokens;
  std::vector<LabelImage> masks;
  std::vector<std::string> ids;
  int gridH = 0, gridW = 0, dim = 0;
};

struct SegmentationEvaluator::DataCache {
  EvaluationDataChoice choice;
  std::shared_ptr<const EvaluationData> val, train;
};

SegmentationRequest studioSegmentationDefaults() {
  SegmentationRequest r;
  r.overcluster.inputSize = 224;
  r.overcluster.maskSize = 100;
  r.overcluster.seeds = 1;
  r.overcluster.restarts = 1;
  r.overcluster.iterations = 50;
  r.retrieval.inputSize = 112;
  r.retrieval.k = 10;
  r.linear.inputSize = 224;
  r.linear.maskSize = 100;
  r.linear.epochs = 5;
  r.linear.decayEpoch = 4;
  r.linear.batchSize = 16;
  r.linear.cachedViews = 2;
  return r;
}

SegmentationEvaluator::SegmentationEvaluator(QObject* parent) : QObject(parent) {
  qRegisterMetaType<neco::ui::OutcomePtr>("neco::ui::OutcomePtr");
  worker_ = std::thread([this] { run(); });
}

SegmentationEvaluator::~SegmentationEvaluator() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    pending_.reset();
  }
  cancel_ = true;  // a running job ends at its next progress report
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

quint64 SegmentationEvaluator::request(SegmentationRequest request) {
  std::lock_guard<std::mutex> lock(mutex_);
  Job job;
  job.id = nextId_++;
  job.request = std::move(request);
  pending_ = std::move(job);
  wake_.notify_one();
  return nextId_ - 1;
}

bool SegmentationEvaluator::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_ || pending_.has_value();
}

void SegmentationEvaluator::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_.has_value(); });
      if (stop_) return;
      job = std::move(*pending_);
      pending_.reset();
      running_ = true;
    }
    // The worker's top level catches everything: an exception must never end the thread.
    const char* protocol = protocolName(job.request.protocol);
    try {
      const auto t0 = Clock::now();
      auto outcome = std::make_shared<SegmentationOutcome>(evaluate(job));
      spdlog::info("{} of {} on {}: mIoU {:.1f} % ({:.1f} s)", protocol, job.request.modelLabel.toStdString(),
                   outcome->data, 100.0 * outcome->miou, secondsSince(t0));
      Q_EMIT finished(job.id, std::move(outcome));
    } catch (const Cancelled&) {
      spdlog::debug("{} cancelled", protocol);
    } catch (const std::exception& e) {
      spdlog::error("{} of {} failed: {}", protocol, job.request.modelLabel.toStdString(), e.what());
      Q_EMIT failed(job.id,
                    tr("%1 of %2 failed: %3")
                        .arg(QString::fromUtf8(protocol), job.request.modelLabel, QString::fromStdString(e.what())));
    } catch (...) {
      Q_EMIT failed(job.id, tr("%1 failed: unknown error").arg(QString::fromUtf8(protocol)));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
  }
}

const SegmentationEvaluator::DataCache& SegmentationEvaluator::openData(const EvaluationDataChoice& choice,
                                                                        bool withTrain) {
  if (data_ && data_->choice == choice && (data_->train || !withTrain)) return *data_;
  auto d = std::make_unique<DataCache>();
  d->choice = choice;
  const auto open = [&](const char* split) -> std::shared_ptr<const EvaluationData> {
    if (choice.kind == QLatin1String("demo")) {
      DemoDatasetOptions o;
      return demoEvaluationData(o, split);
    }
    if (choice.root.isEmpty())
      throw InvalidArgumentError("no folder chosen for the " + choice.kind.toStdString() + " dataset");
    return openEvaluationData(choice.kind.toStdString(), choice.root.toStdString(), split,
                              static_cast<std::size_t>(std::max(0, choice.limit)));
  };
  d->val = open("val");
  if (withTrain) d->train = open("train");
  if (d->train && d->train->classCount() != d->val->classCount())
    throw InvalidArgumentError(d->train->describe() + " has " + std::to_string(d->train->classCount()) +
                               " classes but " + d->val->describe() + " " + std::to_string(d->val->classCount()));
  data_ = std::move(d);
  return *data_;
}

SegmentationEvaluator::ProgressFn SegmentationEvaluator::reporter(quint64 id) {
  return [this, id](std::size_t done, std::size_t total, const std::string& stage) {
    if (cancel_) throw Cancelled{};
    Q_EMIT progress(id, static_cast<qint64>(done), static_cast<qint64>(total), QString::fromStdString(stage));
  };
}

SegmentationOutcome SegmentationEvaluator::evaluate(const Job& job) {
  const SegmentationRequest& r = job.request;
  if (!r.model) throw InvalidArgumentError("no model to evaluate");
  const ProgressFn report = reporter(job.id);
  SegmentationOutcome o;
  const auto t0 = Clock::now();
  switch (r.protocol) {
    case SegmentationProtocol::Overcluster:
      o = overcluster(job);
      break;
    case SegmentationProtocol::Retrieval: {
      const DataCache& d = openData(r.data, true);
      o = outcomeFromRetrieval(evaluateRetrieval(*r.model, *d.train, *d.val, r.retrieval, report));
      break;
    }
    case SegmentationProtocol::LinearProbe: {
      const DataCache& d = openData(r.data, true);
      o = outcomeFromLinearProbe(evaluateLinearProbe(*r.model, *d.train, *d.val, r.linear, report));
      break;
    }
  }
  o.seconds = secondsSince(t0);
  o.modelLabel = r.modelLabel.toStdString();
  o.dataset = r.data.kind.toStdString();
  o.images = data_->val;
  return o;
}

SegmentationOutcome SegmentationEvaluator::overcluster(const Job& job) {
  const SegmentationRequest& r = job.request;
  const DataCache& d = openData(r.data, false);
  const EvaluationData& data = *d.val;
  const ProgressFn report = reporter(job.id);
  OverclusterOptions options = r.overcluster;
  options.ks = {r.k > 0 ? r.k : data.classCount()};
  if (!tokens_ || !sameOwner(tokens_->model, r.model) || tokens_->data != r.data ||
      tokens_->inputSize != options.inputSize) {
    // The tokens as evaluateOvercluster extracts them: raw final-norm patch tokens at inputSize².
    if (data.size() == 0) throw InvalidArgumentError(data.describe() + " has no image");
    tokens_.reset();
    auto cache = std::make_unique<TokenCache>();
    cache->model = r.model;
    cache->data = r.data;
    cache->inputSize = options.inputSize;
    for (std::size_t i = 0; i < data.size(); ++i) {
      report(i, data.size(), "features");
      const RgbImage image = data.image(i);
      LabelImage mask = data.mask(i);
      if (mask.width != image.width || mask.height != image.height)
        throw FormatError(data.id(i), "its mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                                          " but the image " + std::to_string(image.width) + "x" +
                                          std::to_string(image.height));
      PatchFeatures f = r.model->extract(image, options.inputSize, /*normalise=*/false);
      cache->gridH = f.gridH;
      cache->gridW = f.gridW;
      cache->dim = f.dim;
      cache->tokens.push_back(std::move(f.tokens));
      cache->masks.push_back(std::move(mask));
      cache->ids.push_back(data.id(i));
    }
    tokens_ = std::move(cache);
  }
  const TokenCache& t = *tokens_;
  OverclusterResult result = overclusterTokens(t.tokens, t.gridH, t.gridW, t.dim, t.masks, data.classCount(),
                                               data.ignoreIndex(), options, report);
  result.model = modelName(*r.model);
  result.data = data.describe();
  result.imageIds = t.ids;
  result.classNames = data.classNames();
  return outcomeFromOvercluster(result);
}

}  // namespace neco::ui
