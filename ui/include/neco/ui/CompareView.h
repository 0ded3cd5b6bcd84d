#pragma once
// The "Before / after" dock: the pinned query on two or more models side by side. A filmstrip shows
// the same image and query under every model (the first is the base, "before"); a wipe shows the
// base and one other model on one image with a divider the slider (or a drag) moves. The cursor is
// linked: the hovered patch is outlined in every tile and in the wipe, wherever it is hovered.
//
// Models are added as they are (the current model, a live training snapshot) or as checkpoint files,
// which are loaded on the view's worker thread. Each model reads the same block (setLayer). Features
// are extracted on that thread for the current image, newest request first; the colours use the
// studio's fixed [-1, 1] scale so tiles compare directly.
//
// Typical use (MainWindow):
//   compare->addModel(tr("demo"), model);
//   compare->addCheckpoint(path);                         // loaded off the UI thread
//   compare->setImage(canvasImage, rgb, inputSide, path); // extracts under every model
//   compare->setQuery(patch);

#include "neco/core/Checkpoint.h"
#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/ui/FeatureService.h"

#include <QImage>
#include <QList>
#include <QPoint>
#include <QString>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QSlider;
class QHBoxLayout;

namespace neco::ui {

class PatchCanvas;
class WipeView;

/// The patch of a `columns` × `rows` grid under `at` (fractions of the image, clamped to the grid);
/// nullopt without a grid.
std::optional<QPoint> patchUnder(QPointF at, int columns, int rows);
/// The centre of `patch` of a `columns` × `rows` grid as fractions of the image.
QPointF patchCentre(QPoint patch, int columns, int rows);

class CompareView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMaxModels = 6;

  explicit CompareView(QWidget* parent = nullptr);
  ~CompareView() override;  ///< joins the worker (a running extraction finishes first)

  /// Adds a model under `name` (the same model twice is added once). Beyond kMaxModels the oldest
  /// non-base model is dropped. A null model is ignored.
  void addModel(const QString& name, std::shared_ptr<const FeatureExtractor> model);
  /// Adds the checkpoint at `path` (named by its folder and file: `run1/state.safetensors`), loaded
  /// on the worker with `options`; a failure shows its reason on the tile.
  void addCheckpoint(const QString& path, const CheckpointOptions& options);
  /// As above with the options File ▸ Checkpoint Options remembered (what File ▸ Open Checkpoint uses).
  void addCheckpoint(const QString& path);
  void clearModels();
  int modelCount() const noexcept { return static_cast<int>(entries_.size()); }
  QString modelName(int index) const;

  /// The image every model reads: `shown` is drawn, `rgb` extracted at `inputSide`. Extraction
  /// (for this and every other change) runs only while the view is visible; it catches up when shown.
  void setImage(const QImage& shown, RgbImage rgb, int inputSide, const QString& path);
  /// The block every model reads (0: the last; a model without it reads its last block).
  void setLayer(int layer);
  /// The pinned query as a position on the image (fractions 0..1, e.g. its patch's centre): every
  /// model reads the patch of its own grid there, so models of other patch sizes line up.
  void setQuery(std::optional<QPointF> at);
  void setColormap(ColormapKind kind);
  /// The linked cursor, a position on the image as the query: outlined in every tile and the wipe,
  /// each on its own grid (nullopt hides it).
  void setCursorPosition(std::optional<QPointF> at);
  std::optional<QPointF> cursorPosition() const noexcept { return cursor_; }
  /// The patch of model `index`'s grid under the query (nullopt without one or the model's features).
  std::optional<QPoint> queryPatch(int index) const;

  /// The model shown right of the wipe's divider (1.. modelCount-1), and the divider (0..1).
  void setWipeModel(int index);
  int wipeModel() const noexcept { return wipeModel_; }
  void setWipePosition(double fraction);

 protected:
  void showEvent(QShowEvent* event) override;

 public:
  // Inspection (tests, exports).
  int readyCount() const;  ///< models whose features of the current image arrived
  bool busy() const noexcept { return pendingJobs_ > 0; }
  FeaturesPtr features(int index) const;
  const std::vector<float>& similarity(int index) const;  ///< empty without features or query
  PatchCanvas* tile(int index) const;
  WipeView* wipe() const noexcept { return wipe_; }
  QSlider* wipeSlider() const noexcept { return slider_; }

 Q_SIGNALS:
  /// A tile was clicked: the patch centre as a fraction of the image (0..1; the tile's patch grid
  /// may differ from the main view's).
  void positionClicked(QPointF fraction);
  void addCurrentRequested();       ///< the "Add current model" button
  void modelsChanged();
  void featuresArrived(int index);  ///< also on failure (the tile then shows the reason)

 private:
  struct Entry {
    quint64 id = 0;  // unique: names may repeat (every run's state.safetensors)
    QString name;
    QString checkpointPath;                         // loaded on the worker while model is null
    std::shared_ptr<const CheckpointOptions> options;
    std::shared_ptr<const FeatureExtractor> model;  // as given; read at layer_
    FeaturesPtr features;
    std::vector<float> similarity;
    QString error;
    QWidget* frame = nullptr;
    QLabel* caption = nullptr;
    PatchCanvas* canvas = nullptr;
  };
  class Worker;

  void rebuildTiles();
  void requestAll();
  void request(int index);
  void onLoaded(quint64 id, std::shared_ptr<const FeatureExtractor> model);
  void onExtracted(quint64 generation, quint64 id, FeaturesPtr features, const QString& error);
  void refreshHeatmaps();
  void onHovered(QPoint patch, int columns, int rows);
  void showCursorOn(PatchCanvas* canvas) const;  // a tile or the wipe: the linked cursor
  QImage overlayOf(const Entry& e) const;
  void updateCaption(int index);
  void updateWipe();
  int indexOf(quint64 id) const;

  std::vector<Entry> entries_;
  std::unique_ptr<Worker> worker_;
  QImage shown_;
  std::shared_ptr<const RgbImage> rgb_;
  QString path_;
  int inputSide_ = 224;
  int layer_ = 0;
  std::optional<QPointF> query_, cursor_;  // fractions of the image
  Colormap colormap_{ColormapKind::Viridis};
  quint64 generation_ = 0;
  quint64 nextId_ = 1;
  int pendingJobs_ = 0;
  bool caughtUp_ = false;  // the last requestAll ran while visible
  bool heatmapsStale_ = false;  // a query arrived while hidden
  int wipeModel_ = 1;
  QHBoxLayout* strip_;
  QLabel* status_;
  QComboBox* wipeChoice_;
  WipeView* wipe_;
  QSlider* slider_;
};

/// The base model's heatmap left of a vertical divider, another model's right of it, on one image.
/// A left drag moves the divider; hovering reports patches (the linked cursor).
class WipeView : public QWidget {
  Q_OBJECT

 public:
  explicit WipeView(QWidget* parent = nullptr);
  void setImage(const QImage& image, int columns, int rows);
  void setOverlays(const QImage& left, const QImage& right, const QString& leftName, const QString& rightName);
  void setPosition(double fraction);  ///< 0..1 of the image width
  double position() const noexcept { return position_; }
  void setQuery(std::optional<QPoint> patch);
  void setCursorPatch(std::optional<QPoint> patch);
  int columns() const noexcept { return columns_; }
  int rows() const noexcept { return rows_; }
  QRectF imageRect() const;
  QSize sizeHint() const override { return {360, 300}; }

 Q_SIGNALS:
  void positionChanged(double fraction);
  void patchHovered(QPoint patch);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  std::optional<QPoint> patchAt(QPointF position) const;
  QRectF patchRect(QPoint patch) const;

  QImage image_, left_, right_;
  QString leftName_, rightName_;
  int columns_ = 0, rows_ = 0;
  double position_ = 0.5;
  std::optional<QPoint> query_, cursor_;
};

}  // namespace neco::ui
