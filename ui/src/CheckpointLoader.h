#pragma once
// Loads checkpoints on a worker thread so the UI thread never waits on a file that may hold
// gigabytes: inspect (format, layout, key report), then build the backbone. Requests are coalesced
// like FeatureService's: while one load runs only the newest pending request is kept, and only the
// result of the newest request is delivered (older ones are dropped on the UI thread).

#include "neco/core/Checkpoint.h"
#include "neco/core/FeatureExtractor.h"

#include <QObject>
#include <QString>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace neco::ui {

struct LoadedCheckpoint {
  QString path;
  CheckpointOptions options;
  std::shared_ptr<const FeatureExtractor> extractor;
  ModelDescription model;
  CheckpointReport report;  ///< with options.strict false it lists what did not match
};

struct CheckpointFailure {
  /// Unreadable: the OS refused (IoError). Refused: content we never load (UnsupportedError).
  /// KeyMismatch: a strict load whose keys do not match (non-strict loading may help).
  /// NeedsOptions: malformed for these options (FormatError, InvalidArgumentError), e.g. unknown heads.
  enum class Kind { Unreadable, Refused, KeyMismatch, NeedsOptions, Other };
  QString path;
  CheckpointOptions options;
  QString message;  ///< core's message: names the file and the reason
  Kind kind = Kind::Other;
};

class CheckpointLoader : public QObject {
  Q_OBJECT
 public:
  explicit CheckpointLoader(QObject* parent = nullptr);
  ~CheckpointLoader() override;  ///< drops the pending request, waits for a running load

  /// Queues `path` (a file or a Hugging Face folder); supersedes every earlier request.
  void request(const QString& path, const CheckpointOptions& options);
  /// Forgets every request made so far: nothing more is delivered for them.
  void discard();

 Q_SIGNALS:
  void loaded(neco::ui::LoadedCheckpoint checkpoint);
  void failed(neco::ui::CheckpointFailure failure);

 private:
  struct Job {
    quint64 id = 0;
    QString path;
    CheckpointOptions options;
  };
  void run();
  void load(const Job& job);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> pending_;
  bool stop_ = false;
  quint64 nextId_ = 1;
  quint64 latest_ = 0;  // UI thread only: the request whose result is delivered
  std::thread worker_;
};

}  // namespace neco::ui
