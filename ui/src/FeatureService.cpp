#include "neco/ui/FeatureService.h"

#include "neco/core/ImageIo.h"
#include "neco/ui/ImageConversion.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace neco::ui {

FeatureService::FeatureService(std::shared_ptr<const FeatureExtractor> extractor, QObject* parent)
    : QObject(parent), extractor_(std::move(extractor)) {
  qRegisterMetaType<neco::ui::FeaturesPtr>("neco::ui::FeaturesPtr");
  worker_ = std::thread([this] { run(); });
}

FeatureService::~FeatureService() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    pending_.reset();
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

quint64 FeatureService::requestFile(const QString& path, int inputSide) {
  Job job;
  job.path = path;
  job.inputSide = inputSide;
  return enqueue(std::move(job));
}

quint64 FeatureService::requestImage(RgbImage image, int inputSide) {
  Job job;
  job.image = std::move(image);
  job.inputSide = inputSide;
  return enqueue(std::move(job));
}

quint64 FeatureService::enqueue(Job job) {
  std::lock_guard<std::mutex> lock(mutex_);
  job.id = nextId_++;
  if (pending_) spdlog::debug("feature request {} superseded by {}", pending_->id, job.id);
  const quint64 id = job.id;
  pending_ = std::move(job);
  wake_.notify_one();
  return id;
}

void FeatureService::setExtractor(std::shared_ptr<const FeatureExtractor> extractor) {
  if (!extractor) return;
  std::lock_guard<std::mutex> lock(mutex_);
  extractor_ = std::move(extractor);
}

std::shared_ptr<const FeatureExtractor> FeatureService::extractor() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return extractor_;
}

ModelDescription FeatureService::model() const { return extractor()->describe(); }

bool FeatureService::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_ || pending_.has_value();
}

void FeatureService::run() {
  for (;;) {
    Job job;
    std::shared_ptr<const FeatureExtractor> extractor;  // this job's model, even if it is swapped meanwhile
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_.has_value(); });
      if (stop_) return;
      job = std::move(*pending_);
      pending_.reset();
      extractor = extractor_;
      running_ = true;
    }
    // The worker's top level catches everything: an exception must never end the thread.
    try {
      process(job, *extractor);
    } catch (const std::exception& e) {
      spdlog::error("feature extraction failed{}{}: {}", job.path.isEmpty() ? "" : " for ",
                    job.path.toStdString(), e.what());
      Q_EMIT failed(job.id, job.path, QString::fromStdString(e.what()));
    } catch (...) {
      Q_EMIT failed(job.id, job.path, QStringLiteral("unknown error"));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
  }
}

void FeatureService::process(Job& job, const FeatureExtractor& extractor) {
  if (!job.image) {
    job.image = readImage(job.path.toStdString());
    Q_EMIT imageLoaded(job.id, job.path, toQImage(*job.image));
  }
  const auto start = std::chrono::steady_clock::now();
  auto features = std::make_shared<const PatchFeatures>(extractor.extract(*job.image, job.inputSide));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::debug("features {}x{}x{} in {:.1f} ms", features->gridW, features->gridH, features->dim, ms);
  Q_EMIT featuresReady(job.id, std::move(features), ms);
}

}  // namespace neco::ui
