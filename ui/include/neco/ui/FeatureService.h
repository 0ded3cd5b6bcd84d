#pragma once
// Runs image loading and feature extraction on a worker thread so the UI thread never waits on the
// model. Requests are coalesced: while one job runs, only the newest pending request is kept.
// Results cross the thread boundary as plain structs (QImage, PatchFeatures), never tensors.
// The model can be swapped at any time (a loaded checkpoint): each job uses the model that was set
// when it started.

#include "neco/core/FeatureExtractor.h"

#include <QImage>
#include <QObject>
#include <QString>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace neco::ui {

using FeaturesPtr = std::shared_ptr<const PatchFeatures>;

class FeatureService : public QObject {
  Q_OBJECT
 public:
  explicit FeatureService(std::shared_ptr<const FeatureExtractor> extractor, QObject* parent = nullptr);
  ~FeatureService() override;  ///< stops and joins the worker (a running extraction finishes first)

  /// Loads `path` (validated by core's readImage) and extracts features at `inputSide`.
  /// Returns the request id carried by the result signals.
  quint64 requestFile(const QString& path, int inputSide);
  /// Extracts features of an image already in memory.
  quint64 requestImage(RgbImage image, int inputSide);

  /// Replaces the model for the jobs that start from now on (a running job finishes on the old one,
  /// which stays alive until then). Null is ignored.
  void setExtractor(std::shared_ptr<const FeatureExtractor> extractor);
  std::shared_ptr<const FeatureExtractor> extractor() const;
  ModelDescription model() const;
  /// Whether a request is queued or running.
  bool busy() const;

 Q_SIGNALS:
  void imageLoaded(quint64 id, QString path, QImage image);
  void featuresReady(quint64 id, neco::ui::FeaturesPtr features, double milliseconds);
  void failed(quint64 id, QString path, QString message);

 private:
  struct Job {
    quint64 id = 0;
    QString path;
    std::optional<RgbImage> image;
    int inputSide = 0;
  };
  quint64 enqueue(Job job);
  void run();
  void process(Job& job, const FeatureExtractor& extractor);

  std::shared_ptr<const FeatureExtractor> extractor_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> pending_;
  bool running_ = false;
  bool stop_ = false;
  quint64 nextId_ = 1;
  std::thread worker_;
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::ui::FeaturesPtr)
