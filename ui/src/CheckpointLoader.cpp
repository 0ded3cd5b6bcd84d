#include "CheckpointLoader.h"

#include "neco/core/Error.h"

#include <spdlog/spdlog.h>

namespace neco::ui {

CheckpointLoader::CheckpointLoader(QObject* parent) : QObject(parent) {
  worker_ = std::thread([this] { run(); });
}

CheckpointLoader::~CheckpointLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    pending_.reset();
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void CheckpointLoader::request(const QString& path, const CheckpointOptions& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_) spdlog::debug("checkpoint request {} superseded", pending_->path.toStdString());
  pending_ = Job{nextId_++, path, options};
  latest_ = pending_->id;
  wake_.notify_one();
}

void CheckpointLoader::discard() {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.reset();
  latest_ = 0;
}

void CheckpointLoader::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_.has_value(); });
      if (stop_) return;
      job = std::move(*pending_);
      pending_.reset();
    }
    load(job);  // catches everything itself
  }
}

void CheckpointLoader::load(const Job& job) {
  // The worker's top level catches everything: a bad file must never end the thread.
  LoadedCheckpoint result{job.path, job.options, nullptr, {}, {}};
  CheckpointFailure failure{job.path, job.options, {}, CheckpointFailure::Kind::Other};
  bool inspected = false;
  try {
    const std::string path = job.path.toStdString();
    result.report = inspectCheckpoint(path, job.options);  // cheap (mapped), and says what the file is
    inspected = true;
    result.extractor = FeatureExtractor::fromCheckpoint(path, job.options);
    result.model = result.extractor->describe();
  } catch (const IoError& e) {
    failure = {job.path, job.options, QString::fromStdString(e.what()), CheckpointFailure::Kind::Unreadable};
  } catch (const UnsupportedError& e) {
    failure = {job.path, job.options, QString::fromStdString(e.what()), CheckpointFailure::Kind::Refused};
  } catch (const FormatError& e) {
    const bool mismatch = inspected && job.options.strict && !result.report.matches();
    failure = {job.path, job.options, QString::fromStdString(e.what()),
               mismatch ? CheckpointFailure::Kind::KeyMismatch : CheckpointFailure::Kind::NeedsOptions};
  } catch (const InvalidArgumentError& e) {
    failure = {job.path, job.options, QString::fromStdString(e.what()), CheckpointFailure::Kind::NeedsOptions};
  } catch (const std::exception& e) {
    failure.message = QString::fromStdString(e.what());
  } catch (...) {
    failure.message = QStringLiteral("%1: unknown error while loading").arg(job.path);
  }
  const quint64 id = job.id;
  if (result.extractor) {
    QMetaObject::invokeMethod(
        this,
        [this, id, result] {
          if (id == latest_) Q_EMIT loaded(result);
        },
        Qt::QueuedConnection);
  } else {
    spdlog::error("cannot open checkpoint {}", failure.message.toStdString());
    QMetaObject::invokeMethod(
        this,
        [this, id, failure] {
          if (id == latest_) Q_EMIT failed(failure);
        },
        Qt::QueuedConnection);
  }
}

}  // namespace neco::ui
