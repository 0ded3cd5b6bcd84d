#pragma once
// Builds the dataset-wide patch bank for the near/far strip: reads every image and extracts its
// patch tokens on a worker thread, reporting progress. An unreadable image is reported by name and
// skipped; only a bank with no image at all is a failure. Results cross the thread boundary as the
// finished, immutable bank (no tensors in this header).

#include "neco/core/FeatureExtractor.h"
#include "neco/core/PatchBank.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <thread>

namespace neco::ui {

using PatchBankPtr = std::shared_ptr<const PatchBank>;

class PatchBankBuilder : public QObject {
  Q_OBJECT
 public:
  explicit PatchBankBuilder(QObject* parent = nullptr);
  /// Cancels a running build and joins its thread (waits for at most the image being extracted).
  ~PatchBankBuilder() override;

  /// Starts building a bank of `paths` at `inputSide`. A running build is cancelled and superseded:
  /// its signals stop, this build's start. A null extractor or an empty list emits failed().
  void build(QStringList paths, int inputSide, std::shared_ptr<const FeatureExtractor> extractor);
  /// Stops the running build; it emits nothing more.
  void cancel();
  bool running() const noexcept { return running_; }

 Q_SIGNALS:
  void progress(int done, int total);
  /// An image that could not be read or extracted; the build goes on without it.
  void imageSkipped(QString path, QString reason);
  /// The bank, whose image names are the paths that made it in (also listed in `paths`).
  void finished(neco::ui::PatchBankPtr bank, QStringList paths);
  void failed(QString message);

 private:
  void stopWorker();
  void run(quint64 generation, QStringList paths, int inputSide, std::shared_ptr<const FeatureExtractor> extractor,
           std::shared_ptr<std::atomic<bool>> cancelled);
  /// Runs `emitter` on this object's thread unless the build that posted it was superseded.
  template <typename F>
  void post(quint64 generation, F emitter);

  std::thread worker_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  quint64 generation_ = 0;
  bool running_ = false;
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::ui::PatchBankPtr)
