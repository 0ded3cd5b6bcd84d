#pragma once
// Runs the dense evaluations of the segmentation quality panel on a worker thread: overclustering,
// nearest-neighbour retrieval and the linear probe (core's Evaluation.h), each answered as one
// SegmentationOutcome. Requests are coalesced like FeatureService's: while one job runs, only the
// newest pending request is kept. Progress and results cross to the GUI thread as plain values by
// queued signals; nothing here blocks the GUI thread.
//
// Overclustering keeps the patch tokens of its last (model, data, input size) on the worker, so a
// new K re-clusters them without running the backbone again (the K slider). The opened datasets are
// kept too. The destructor stops a running job at its next progress report and joins the thread.

#include "neco/core/Evaluation.h"
#include "neco/ui/SegmentationOutcome.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace neco::ui {

/// Where the panel's images come from.
struct EvaluationDataChoice {
  QString kind = QStringLiteral("demo");  ///< "demo" (rendered in memory), "voc", "ade20k", "cityscapes"
  QString root;                           ///< the dataset folder (unused for the demo)
  int limit = 0;                          ///< > 0: the first `limit` images of each split

  bool operator==(const EvaluationDataChoice& o) const { return kind == o.kind && root == o.root && limit == o.limit; }
  bool operator!=(const EvaluationDataChoice& o) const { return !(*this == o); }
};

struct SegmentationRequest {
  SegmentationProtocol protocol = SegmentationProtocol::Overcluster;
  std::shared_ptr<const FeatureExtractor> model;
  QString modelLabel;
  EvaluationDataChoice data;
  int k = 0;  ///< overclustering's K (0: the class count); the options' ks are ignored
  OverclusterOptions overcluster;
  RetrievalOptions retrieval;
  LinearProbeOptions linear;
};

/// The studio's defaults: small and fast (seconds for the demo on two CPU cores), not the papers'
/// settings (those are `neco eval`'s): overclustering at 224 with one seed and one restart,
/// retrieval at 112, the linear probe at 224 for 5 epochs on 2 cached views.
SegmentationRequest studioSegmentationDefaults();

class SegmentationEvaluator : public QObject {
  Q_OBJECT
 public:
  explicit SegmentationEvaluator(QObject* parent = nullptr);
  ~SegmentationEvaluator() override;

  /// Queues `request` (replacing a queued one); returns the id its signals carry.
  quint64 request(SegmentationRequest request);
  /// Whether a request is queued or running.
  bool busy() const;

 Q_SIGNALS:
  void progress(quint64 id, qint64 done, qint64 total, QString stage);
  void finished(quint64 id, neco::ui::OutcomePtr outcome);
  /// What went wrong, naming the thing (model, dataset, file) and the reason.
  void failed(quint64 id, QString message);

 private:
  struct Job {
    quint64 id = 0;
    SegmentationRequest request;
  };
  struct TokenCache;
  struct DataCache;
  using ProgressFn = std::function<void(std::size_t, std::size_t, const std::string&)>;
  void run();
  ProgressFn reporter(quint64 id);  ///< emits progress(); throws to cancel the job
  SegmentationOutcome evaluate(const Job& job);
  SegmentationOutcome overcluster(const Job& job);
  const DataCache& openData(const EvaluationDataChoice& choice, bool withTrain);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> pending_;
  bool running_ = false;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  quint64 nextId_ = 1;
  // touched by the worker thread only
  std::unique_ptr<TokenCache> tokens_;
  std::unique_ptr<DataCache> data_;
  std::thread worker_;
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::ui::OutcomePtr)
