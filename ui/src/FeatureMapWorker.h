#pragma once
// The feature map view's background jobs: fitting a PCA-RGB basis and k-means of the patch tokens.
// Measured on a 37 x 37 grid of 384-d tokens (ViT-S at 518) on two cores: a fit takes 40-80 ms,
// k-means 55-80 ms at K = 2..32 (projection onto a fitted basis, 5 ms, stays on the GUI thread). One thread; each kind keeps only its newest pending job
// (newest wins), and every result carries its request id so the view can drop stale ones.
// Results cross to the GUI thread by queued signals; the destructor joins the thread (a running job
// finishes first: both are short).

#include "neco/core/FeatureMaps.h"
#include "neco/ui/FeatureService.h"

#include <QObject>
#include <QString>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace neco::ui {

using BasisPtr = std::shared_ptr<const PcaRgbBasis>;
using LabelsPtr = std::shared_ptr<const std::vector<int>>;

class FeatureMapWorker : public QObject {
  Q_OBJECT
 public:
  explicit FeatureMapWorker(QObject* parent = nullptr);
  ~FeatureMapWorker() override;

  /// Queues a basis fit on `images` (replacing a queued fit); returns the id basisReady carries.
  quint64 requestBasis(std::vector<FeaturesPtr> images, PcaRgbOptions options);
  /// Queues k-means of `features` (replacing a queued clustering); returns the id labelsReady carries.
  quint64 requestLabels(FeaturesPtr features, int k, std::uint64_t seed);
  bool busy() const;

 Q_SIGNALS:
  void basisReady(quint64 id, neco::ui::BasisPtr basis);
  void labelsReady(quint64 id, neco::ui::LabelsPtr labels);
  void failed(quint64 id, QString message);

 private:
  struct FitJob {
    quint64 id = 0;
    std::vector<FeaturesPtr> images;
    PcaRgbOptions options;
  };
  struct ClusterJob {
    quint64 id = 0;
    FeaturesPtr features;
    int k = 0;
    std::uint64_t seed = 0;
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<FitJob> pendingFit_;
  std::optional<ClusterJob> pendingCluster_;
  bool running_ = false;
  bool stop_ = false;
  quint64 nextId_ = 1;
  std::thread thread_;
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::ui::BasisPtr)
Q_DECLARE_METATYPE(neco::ui::LabelsPtr)
