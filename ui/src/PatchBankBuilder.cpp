#include "neco/ui/PatchBankBuilder.h"

#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <QMetaObject>

#include <spdlog/spdlog.h>

#include <exception>
#include <filesystem>
#include <utility>

namespace neco::ui {

PatchBankBuilder::PatchBankBuilder(QObject* parent) : QObject(parent) {}

PatchBankBuilder::~PatchBankBuilder() {
  // NOTE: the threads post to this object: every one must end before it does.
  retireWorker();
  for (Worker& w : retired_) w.thread.join();
}

void PatchBankBuilder::retireWorker() {
  if (worker_.cancelled) worker_.cancelled->store(true);
  if (worker_.thread.joinable()) retired_.push_back(std::move(worker_));
  worker_ = {};
  ++generation_;  // whatever the stopped build had posted and not yet delivered is dropped
  running_ = false;
  reapRetired();
}

void PatchBankBuilder::reapRetired() {
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->done->load()) {
      it->thread.join();  // past its last statement: returns at once
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
}

void PatchBankBuilder::cancel() { retireWorker(); }

template <typename F>
void PatchBankBuilder::post(quint64 generation, F emitter) {
  // Queued onto this object's thread: Qt drops the call if the builder is gone by then, and the
  // generation check drops it if a newer build superseded this one.
  QMetaObject::invokeMethod(
      this,
      [this, generation, emitter = std::move(emitter)]() mutable {
        if (generation == generation_) emitter();
      },
      Qt::QueuedConnection);
}

void PatchBankBuilder::build(QStringList paths, int inputSide, std::shared_ptr<const FeatureExtractor> extractor) {
  retireWorker();
  if (!extractor || paths.isEmpty()) {
    Q_EMIT failed(extractor ? tr("No images to build a patch bank from.") : tr("No model to extract patch features with."));
    return;
  }
  worker_.cancelled = std::make_shared<std::atomic<bool>>(false);
  worker_.done = std::make_shared<std::atomic<bool>>(false);
  running_ = true;
  worker_.thread = std::thread(&PatchBankBuilder::run, this, generation_, std::move(paths), inputSide,
                               std::move(extractor), worker_.cancelled, worker_.done);
}

void PatchBankBuilder::run(quint64 generation, QStringList paths, int inputSide,
                           std::shared_ptr<const FeatureExtractor> extractor, std::shared_ptr<std::atomic<bool>> cancelled,
                           std::shared_ptr<std::atomic<bool>> done) {
  // NOTE: the thread boundary: nothing escapes this function, every outcome becomes a signal.
  struct MarkDone {
    std::atomic<bool>& flag;
    ~MarkDone() { flag.store(true); }
  } markDone{*done};
  try {
    auto bank = std::make_shared<PatchBank>();
    QStringList kept;
    QString firstReason;
    const int total = static_cast<int>(paths.size());
    for (int i = 0; i < total; ++i) {
      if (cancelled->load()) return;
      const QString path = paths[i];
      try {
        const RgbImage image = readImage(std::filesystem::path(path.toStdString()));
        if (cancelled->load()) return;
        bank->add(path.toStdString(), extractor->extract(image, inputSide));
        kept.push_back(path);
      } catch (const std::exception& e) {
        const QString reason = QString::fromStdString(e.what());
        if (firstReason.isEmpty()) firstReason = reason;
        spdlog::warn("patch bank: skipping {}: {}", path.toStdString(), e.what());
        post(generation, [this, path, reason] { Q_EMIT imageSkipped(path, reason); });
      }
      post(generation, [this, done = i + 1, total] { Q_EMIT progress(done, total); });
    }
    if (cancelled->load()) return;
    if (bank->empty()) {
      post(generation, [this, firstReason] {
        running_ = false;
        Q_EMIT failed(tr("No image could be read for the patch bank: %1").arg(firstReason));
      });
      return;
    }
    bank->prepare();  // the one-off join (and device move) here, not in the strip's first search
    if (cancelled->load()) return;
    spdlog::info("patch bank: {} images, {} patches, {:.1f} MiB", bank->imageCount(), bank->rowCount(),
                 static_cast<double>(bank->bytes()) / (1 << 20));
    post(generation, [this, bank = PatchBankPtr(std::move(bank)), kept] {
      running_ = false;
      Q_EMIT finished(bank, kept);
    });
  } catch (const std::exception& e) {
    post(generation, [this, message = QString::fromStdString(e.what())] {
      running_ = false;
      Q_EMIT failed(message);
    });
  } catch (...) {
    post(generation, [this] {
      running_ = false;
      Q_EMIT failed(tr("Building the patch bank failed with an unknown error."));
    });
  }
}

}  // namespace neco::ui
