#pragma once
// The cross-image view's background job: reads each target image and extracts its patch features.
// One thread; only the newest pending batch is kept (newest wins), and a running batch stops between
// two images as soon as a newer one is queued. Every result carries the batch's model generation so
// the view can drop results computed for a model or input size it no longer shows. Results cross to
// the GUI thread by queued signals as plain structs (QImage, PatchFeatures); the destructor joins the
// thread (a running extraction finishes first).

#include "neco/ui/FeatureService.h"

#include <QImage>
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace neco::ui {

class CrossImageLoader : public QObject {
  Q_OBJECT
 public:
  explicit CrossImageLoader(QObject* parent = nullptr);
  ~CrossImageLoader() override;

  /// Queues reading + extraction of `paths` with `model` at `inputSide`, replacing a queued batch.
  /// `generation` is handed back with every result. A null model is ignored.
  void request(QStringList paths, std::shared_ptr<const FeatureExtractor> model, int inputSide, quint64 generation);
  bool busy() const;
  /// Extractions run so far (the tests check that a new query reuses the cached features).
  int extractionCount() const noexcept { return extractions_.load(); }

 Q_SIGNALS:
  void targetReady(quint64 generation, QString path, QImage image, neco::ui::FeaturesPtr features);
  void targetFailed(quint64 generation, QString path, QString message);

 private:
  struct Batch {
    QStringList paths;
    std::shared_ptr<const FeatureExtractor> model;
    int inputSide = 0;
    quint64 generation = 0;
  };
  void run();
  void process(const QString& path, const Batch& batch);
  bool superseded() const;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Batch> pending_;
  bool running_ = false;
  bool stop_ = false;
  std::atomic<int> extractions_{0};
  std::thread thread_;
};

}  // namespace neco::ui
