#include "CrossImageLoader.h"

#include "neco/core/ImageIo.h"
#include "neco/ui/ImageConversion.h"

#include <exception>
#include <filesystem>

namespace neco::ui {

CrossImageLoader::CrossImageLoader(QObject* parent) : QObject(parent) {
  qRegisterMetaType<neco::ui::FeaturesPtr>("neco::ui::FeaturesPtr");
  thread_ = std::thread([this] { run(); });
}

CrossImageLoader::~CrossImageLoader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    pending_.reset();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CrossImageLoader::request(QStringList paths, std::shared_ptr<const FeatureExtractor> model, int inputSide,
                               quint64 generation) {
  if (!model) return;
  std::lock_guard lock(mutex_);
  pending_ = Batch{std::move(paths), std::move(model), inputSide, generation};
  wake_.notify_one();
}

bool CrossImageLoader::busy() const {
  std::lock_guard lock(mutex_);
  return running_ || pending_;
}

bool CrossImageLoader::superseded() const {
  std::lock_guard lock(mutex_);
  return stop_ || pending_.has_value();
}

void CrossImageLoader::run() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_; });
      if (stop_) return;
      batch = std::move(*pending_);
      pending_.reset();
      running_ = true;
    }
    for (const QString& path : batch.paths) {
      if (superseded()) break;  // a newer batch (or shutdown) wins; it lists what is still missing
      process(path, batch);
    }
    std::lock_guard lock(mutex_);
    running_ = false;
  }
}

void CrossImageLoader::process(const QString& path, const Batch& batch) {
  // The thread's top level for one image: whatever a file or the model throws becomes a signal.
  try {
    const RgbImage image = readImage(std::filesystem::path(path.toStdString()));
    ++extractions_;
    auto features = std::make_shared<const PatchFeatures>(batch.model->extract(image, batch.inputSide));
    Q_EMIT targetReady(batch.generation, path, toQImage(image), std::move(features));
  } catch (const std::exception& e) {
    Q_EMIT targetFailed(batch.generation, path, QString::fromStdString(e.what()));
  } catch (...) {
    Q_EMIT targetFailed(batch.generation, path, QStringLiteral("unknown error"));
  }
}

}  // namespace neco::ui
