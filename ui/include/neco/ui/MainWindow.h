#pragma once
// The studio window: the patch canvas in the centre, similarity controls and the log in docks,
// menus for files, view options and log level. It wires views to the FeatureService; it owns no
// model logic of its own.

#include "neco/core/Colormap.h"
#include "neco/ui/FeatureService.h"

#include <QMainWindow>
#include <QPoint>
#include <QStringList>

#include <memory>
#include <optional>

class QLabel;

namespace neco::ui {

class DemoBootstrap;
class LogPanel;
class PatchCanvas;
class SimilarityControls;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(std::shared_ptr<const FeatureExtractor> extractor, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens an image file (decoded and validated off the UI thread). Errors show in a dialog and the log.
  void openImage(const QString& path);
  /// Generates the demo dataset on first use and opens its first image.
  void openDemo(const QString& demoRoot);
  /// Pins the similarity query to patch (column, row); the heatmap follows when features are ready.
  void selectPatch(QPoint patch);

  PatchCanvas* canvas() const noexcept { return canvas_; }
  SimilarityControls* controls() const noexcept { return controls_; }
  LogPanel* logPanel() const noexcept { return log_; }
  FeatureService* featureService() const noexcept { return service_; }
  FeaturesPtr currentFeatures() const noexcept { return features_; }
  QString currentPath() const noexcept { return path_; }
  /// The similarity map behind the overlay (row-major grid), empty without a query.
  const std::vector<float>& similarity() const noexcept { return similarity_; }
  /// Whether dialogs are shown for errors (tests and --screenshot turn them off).
  void setInteractive(bool interactive) { interactive_ = interactive; }

 Q_SIGNALS:
  /// Emitted after the overlay was recomputed for the current query and features.
  void heatmapUpdated();
  /// Emitted when a file could not be opened (after the error was logged/shown).
  void openFailed(QString path, QString message);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildDocks();
  void onImageLoaded(quint64 id, const QString& path, const QImage& image);
  void onFeaturesReady(quint64 id, const FeaturesPtr& features, double milliseconds);
  void onFailed(quint64 id, const QString& path, const QString& message);
  void requestFeatures();
  void updateHeatmap();
  void updateStatus();
  void showError(const QString& title, const QString& message);

  FeatureService* service_;
  PatchCanvas* canvas_;
  SimilarityControls* controls_;
  LogPanel* log_;
  DemoBootstrap* demo_;
  QLabel* status_;
  Colormap colormap_{ColormapKind::Viridis};
  ModelDescription model_;
  QString path_;
  QString demoRoot_;
  RgbImage image_;
  quint64 latestRequest_ = 0;
  FeaturesPtr features_;
  double extractMs_ = 0.0;
  std::optional<QPoint> query_;
  std::vector<float> similarity_;
  bool interactive_ = true;
};

}  // namespace neco::ui
