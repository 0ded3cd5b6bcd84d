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
#include <vector>

namespace neco::ui {

using PatchBankPtr = std::shared_ptr<const PatchBank>;

class PatchBankBuilder : public QObject {
  Q_OBJECT
 public:
  explicit PatchBankBuilder(QObject* parent = nullptr);
  /// Cancels a running build and joins every build thread (waits for at most the image each one is
  /// extracting).
  ~PatchBankBuilder() override;

  /// Starts building a bank of `paths` at `inputSide`. A running build is cancelled and superseded:
  /// its signals stop, this build's start. A null extractor or an empty list emits failed().
  void build(QStringList paths, int inputSide, std::shared_ptr<const FeatureExtractor> extractor);
  /// Stops the running build; it emits nothing more. Does not wait: the build's thread finishes the
  /// image it is extracting on its own (a model change during training cancels builds often).
  void cancel();
  /// Threads of cancelled builds still finishing their image.
  int finishingCount() const noexcept { return static_cast<int>(retired_.size()); }
  bool running() const noexcept { return running_; }

 Q_SIGNALS:
  void progress(int done, int total);
  /// An image that could not be read or extracted; the build goes on without it.
  void imageSkipped(QString path, QString reason);
  /// The bank, whose image names are the paths that made it in (also listed in `paths`).
  void finished(neco::ui::PatchBankPtr bank, QStringList paths);
  void failed(QString message);

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> cancelled, done;
  };
  void retireWorker();  // cancels the running build and keeps its thread until it is done
  void reapRetired();   // joins the retired threads that are done
  void run(quint64 generation, QStringList paths, int inputSide, std::shared_ptr<const FeatureExtractor> extractor,
           std::shared_ptr<std::atomic<bool>> cancelled, std::shared_ptr<std::atomic<bool>> done);
  /// Runs `emitter` on this object's thread unless the build that posted it was superseded.
  template <typename F>
  void post(quint64 generation, F emitter);

  Worker worker_;
  std::vector<Worker> retired_;
  quint64 generation_ = 0;
  bool running_ = false;
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::ui::PatchBankPtr)
