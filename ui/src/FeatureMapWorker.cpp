#include "FeatureMapWorker.h"

#include <exception>
#include <stdexcept>

namespace neco::ui {

FeatureMapWorker::FeatureMapWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<neco::ui::BasisPtr>("neco::ui::BasisPtr");
  qRegisterMetaType<neco::ui::LabelsPtr>("neco::ui::LabelsPtr");
  thread_ = std::thread([this] { run(); });
}

FeatureMapWorker::~FeatureMapWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    pendingFit_.reset();
    pendingCluster_.reset();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

quint64 FeatureMapWorker::requestBasis(std::vector<FeaturesPtr> images, PcaRgbOptions options) {
  std::lock_guard lock(mutex_);
  const quint64 id = nextId_++;
  pendingFit_ = FitJob{id, std::move(images), options};
  wake_.notify_one();
  return id;
}

quint64 FeatureMapWorker::requestLabels(FeaturesPtr features, int k, std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  const quint64 id = nextId_++;
  pendingCluster_ = ClusterJob{id, std::move(features), k, seed};
  wake_.notify_one();
  return id;
}

bool FeatureMapWorker::busy() const {
  std::lock_guard lock(mutex_);
  return running_ || pendingFit_ || pendingCluster_;
}

void FeatureMapWorker::run() {
  for (;;) {
    std::optional<FitJob> fit;
    std::optional<ClusterJob> cluster;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pendingFit_ || pendingCluster_; });
      if (stop_) return;
      if (pendingFit_) {
        fit.swap(pendingFit_);
      } else {
        cluster.swap(pendingCluster_);
      }
      running_ = true;
    }
    const quint64 id = fit ? fit->id : cluster->id;
    // The thread's top level catches everything: an exception must never end it.
    try {
      if (fit) {
        std::vector<const PatchFeatures*> images;
        for (const FeaturesPtr& f : fit->images) images.push_back(f.get());
        Q_EMIT basisReady(id, std::make_shared<const PcaRgbBasis>(fitPcaRgbBasis(images, fit->options)));
      } else {
        if (!cluster->features) throw std::invalid_argument("k-means map: no features");
        auto labels = std::make_shared<const std::vector<int>>(kmeansPatchLabels(*cluster->features, cluster->k, cluster->seed));
        Q_EMIT labelsReady(id, std::move(labels));
      }
    } catch (const std::exception& e) {
      Q_EMIT failed(id, QString::fromStdString(e.what()));
    } catch (...) {
      Q_EMIT failed(id, QStringLiteral("unknown error"));
    }
    std::lock_guard lock(mutex_);
    running_ = false;
  }
}

}  // namespace neco::ui
