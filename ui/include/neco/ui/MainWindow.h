#pragma once
// The studio window: the patch canvas in the centre; similarity controls, the soft permutation view,
// the sorting network diagram, the training panel, the training X-ray, the segmentation quality
// panel and the log in docks; menus for files, checkpoints, training, evaluation, view options and
// log level. It wires views to the FeatureService and swaps in the model that CheckpointActions
// loads (or that training produces); it owns no model logic of its own.

#include "neco/core/Colormap.h"
#include "neco/ui/FeatureService.h"
#include "neco/ui/ViewManifest.h"

#include <QMainWindow>
#include <QPoint>
#include <QStringList>

#include <future>
#include <memory>
#include <optional>

class QDockWidget;
class QLabel;
class QTimer;
class QMenu;

namespace neco::ui {

class CheckpointActions;
class DatasetBrowser;
class CompareView;
class EmbeddingCloudView;
class PermutationSurfaceView;
class CrossImageView;
class DemoBootstrap;
class FeatureMapView;
class NearFarStrip;
class PatchBankBuilder;
class LogPanel;
class PatchCanvas;
class PermutationView;
class RecentFiles;
class SegmentationQualityView;
class ShortcutSheet;
class SimilarityControls;
class TrainingXRayView;
class SortingNetworkView;
class TrainingPanel;
class VideoRecorder;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(std::shared_ptr<const FeatureExtractor> extractor, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens an image file (decoded and validated off the UI thread). Errors show in a dialog and the log.
  void openImage(const QString& path);
  /// Generates the demo dataset on first use, lists its scenes in the Dataset browser and opens
  /// the first one.
  void openDemo(const QString& demoRoot);
  /// Lists every image under `folder` in the Dataset browser (remembered in File ▸ Recent
  /// Datasets) and opens the first. Returns the number listed; a folder without images is
  /// reported (dialog and log) and leaves the current image open.
  int openFolder(const QString& folder);
  /// Image ▸ Next / Previous (→ F / ← D): the neighbour in the Dataset browser. False at either
  /// end of the list (the status bar says so) or when nothing is listed.
  bool nextImage();
  bool previousImage();
  DatasetBrowser* datasetBrowser() const noexcept { return browser_; }
  RecentFiles* recentDatasets() const noexcept { return recentDatasets_; }
  /// The Feature maps dock (PCA-RGB / k-means of the current image's patch features).
  FeatureMapView* featureMapView() const noexcept { return featureMaps_; }
  /// The Near / far dock: the ranked nearest and farthest patches of the query, in the image or
  /// across the dataset's patch bank.
  NearFarStrip* nearFarStrip() const noexcept { return nearFar_; }
  PatchBankBuilder* patchBankBuilder() const noexcept { return bankBuilder_; }
  /// The Cross-image dock: the query's similarity in the next images of the Dataset list, each
  /// with its best match (and whether it is a mutual nearest neighbour).
  CrossImageView* crossImageView() const noexcept { return crossImage_; }
  /// Raises the Near / far dock with room for its thumbnails (most of the bottom row).
  void showNearFar();
  /// The same for any dock of the bottom row, by object name (nearFarDock, crossImageDock, …).
  void showBottomDock(const char* objectName);
  /// Image ▸ Build Patch Bank: extracts every listed image with the current model (worker thread,
  /// progress in the status bar). A model change drops the bank (its features would be stale).
  void buildPatchBank();
  /// Session state (QSettings; MainWindowSession.cpp). The window layout, the view settings and a
  /// snapshot of what is open (dataset, image, query patches, checkpoint) are saved a moment after
  /// every change and on close.
  void saveSession() const;
  /// Off by default (tests, --screenshot, --bench-ui): nothing is autosaved or marked. The studio
  /// turns it on for a person at the window.
  void setSessionPersistence(bool on);
  /// The dock layout and window geometry of the last session; false when none was saved.
  bool restoreLayout();
  /// Colour map, opacity, grid, input size and hover preview of the last session.
  void restoreViewSettings();
  /// Whether the last session ended without closing its window (a crash) and left a snapshot.
  static bool previousSessionCrashed();
  /// Reopens the snapshot: dataset listing, checkpoint, image and its query patches. False when
  /// there is none or its image is gone.
  bool restoreSession();
  /// Help ▸ Keyboard Shortcuts (? or F1): the sheet of every shortcut, read from the menus.
  void toggleShortcutSheet();
  ShortcutSheet* shortcutSheet() const noexcept { return shortcuts_; }
  /// Pins the similarity query to patch (column, row); the heatmap follows when features are ready.
  /// Clears the queries added with addQueryPatch.
  void selectPatch(QPoint patch);
  /// Shift-click: adds a further query patch (or removes it when it is one already); the heatmap
  /// then shows, per patch, its highest similarity to any query. The first query stays the one
  /// the permutation view and the near/far strip follow.
  void addQueryPatch(QPoint patch);
  const QList<QPoint>& extraQueries() const noexcept { return extraQueries_; }
  /// View ▸ Hover Preview (H): while on, the heatmap previews the patch under the cursor and
  /// returns to the pinned query when the cursor leaves the image.
  void setHoverPreview(bool on);
  bool hoverPreview() const noexcept { return hoverPreview_; }
  /// Loads a checkpoint file or Hugging Face folder off the UI thread (newer requests supersede
  /// older ones) with the options remembered by File ▸ Checkpoint Options… (or these). On success
  /// the model is swapped, the current image re-extracted, modelChanged emitted; on failure the
  /// previous model stays, checkpointFailed is emitted and (interactive) a non-blocking dialog shown.
  void openCheckpoint(const QString& path);
  void openCheckpoint(const QString& path, const CheckpointOptions& options);
  /// Returns to the built-in demo model.
  void useDemoModel();
  /// Whether a checkpoint load is queued or running.
  bool checkpointLoading() const;

  PatchCanvas* canvas() const noexcept { return canvas_; }
  SimilarityControls* controls() const noexcept { return controls_; }
  LogPanel* logPanel() const noexcept { return log_; }
  /// The selected patch's NeCo row sorted for student and teacher, and the student's network.
  PermutationView* permutationView() const noexcept { return permutation_; }
  SortingNetworkView* sortingNetworkView() const noexcept { return network_; }
  /// The Training dock's panel; its live weights become the active model as they arrive.
  TrainingPanel* trainingPanel() const noexcept { return training_; }
  TrainingXRayView* xrayView() const noexcept { return xray_; }
  /// The segmentation quality panel; it follows the active model and evaluates on demand.
  SegmentationQualityView* segmentationQualityView() const noexcept { return quality_; }
  /// Evaluate ▸ Segmentation Quality: shows the panel's dock, large enough to read.
  void showSegmentationQuality();
  /// Shows the X-ray dock and asks for an X-ray of the next step (when a run is paused).
  void showXRay();
  /// Train ▸ Train on the Demo: the built-in demo configuration in a new run folder.
  void trainDemo();
  FeatureService* featureService() const noexcept { return service_; }
  FeaturesPtr currentFeatures() const noexcept { return features_; }
  /// The active model, and the one-line summary the status bar shows for it.
  const ModelDescription& currentModel() const noexcept { return model_; }
  /// The Before / after dock: the pinned query under several models.
  CompareView* compareView() const noexcept { return compare_; }
  /// The Embedding 3-D dock: the patches as a VTK point cloud on their first principal components.
  /// Null until the dock is first shown (the 3-D views are made then, see buildFeatureDocks).
  EmbeddingCloudView* embeddingView() const noexcept { return embedding_; }
  /// The Permutation 3-D dock: the student and teacher matrices as surfaces (VTK); null until the
  /// dock is first shown.
  PermutationSurfaceView* permutationSurface() const noexcept { return surface_; }
  /// Adds the model on screen (a live training step as it is now) to the Before / after dock.
  void compareWithCurrentModel();
  QString modelSummary() const;
  RecentFiles* recentCheckpoints() const;
  QString currentPath() const noexcept { return path_; }
  /// The similarity map behind the overlay (row-major grid), empty without a query.
  const std::vector<float>& similarity() const noexcept { return similarity_; }
  /// Whether dialogs are shown for errors (tests turn them off). They never block: errors open
  /// non-modal message boxes.
  void setInteractive(bool interactive);

  // ---- Reproducible exports (MainWindowExport.cpp; the manifest keys are in docs/EXPORTS.md) ----
  /// The current view as a manifest: weights (checkpoint path + SHA-256, demo seed or live step),
  /// image (path + SHA-256), every view setting and the PCA basis. Throws IoError when the
  /// checkpoint or image cannot be read to hash it, InvalidArgumentError without an open image.
  ViewManifest viewManifest() const;
  /// File ▸ Export View… (Ctrl+E): writes, next to `basePath` (any .png/.json suffix is dropped):
  ///   <base>.png              the similarity canvas (image, heatmap, grid, selected patch),
  ///                           re-composed from the image and the per-patch overlay at `scale` x the
  ///                           image's pixel size (exportViewAtWidth: that width, aspect kept);
  ///   <base>.similarity.csv   row, column, cosine similarity of every patch (with a query patch);
  ///   <base>.permutation.csv  + .svg  the student and teacher soft permutation matrices (with a row);
  ///   <base>.features.png     the Feature maps overlay at the same size (when a map is shown);
  ///   <base>.json             the manifest, which File ▸ Open View… reopens.
  /// Every file is written through QSaveFile and only committed when all could be written; on
  /// failure nothing new is left, the error is shown (naming the file) and exportFailed emitted.
  /// Returns whether the export succeeded.
  bool exportView(const QString& basePath, int scale);
  bool exportViewAtWidth(const QString& basePath, int pixelWidth);
  /// File ▸ Open View…: reads a manifest, checks the image's and the checkpoint's SHA-256 (refused
  /// with a message naming both hashes on a mismatch, or the missing file), applies every setting,
  /// loads the weights (checkpoint or demo) and the image and pins the query patch; viewOpened is
  /// emitted once that heatmap is shown. False (message shown, viewOpenFailed emitted) when it was
  /// refused up front; a later failure (checkpoint load, image decode) emits viewOpenFailed too.
  bool openView(const QString& manifestPath);

  // ---- Video recording (MainWindowRecord.cpp) ----
  /// File ▸ Record ▸ Steepness Sweep…: records the permutation view (student and teacher matrices
  /// of the pinned patch) while the student steepness sweeps geometrically from `from` to `to` in
  /// `frames` frames, one frame per event-loop turn, then restores the steepness. `path` is .avi
  /// (Motion-JPEG) or .mp4 (MPEG-4); it appears only when complete (recordingFinished). False when
  /// refused up front (no pinned patch, a recording running, bad values, the open image or
  /// checkpoint as target): the message is shown and recordingFailed emitted.
  bool recordSteepnessSweep(const QString& path, double from, double to, int frames, double fps = 8.0);
  /// File ▸ Record ▸ Record Views: from now on, each time the heatmap and the views that follow it
  /// are shown anew (every live training step, another image, query or layer) a frame is added: the
  /// canvas and the permutation matrices side by side, captioned with the model (its training
  /// step) and the image. stopRecording() writes the file. False when refused (as above).
  bool startRecording(const QString& path, double fps = 4.0);
  /// Ends either kind of recording and writes the file: recordingFinished(path, frames), or
  /// recordingFailed (nothing recorded, the move failed; an earlier file of that name is kept).
  void stopRecording();
  bool isRecording() const noexcept;

 Q_SIGNALS:
  void recordingFinished(QString path, int frames);
  void recordingFailed(QString path, QString message);
  /// The view of a manifest is fully restored (weights, settings, image, query, heatmap).
  void viewOpened();
  void viewOpenFailed(QString manifestPath, QString message);
  /// An export failed; `path` is the file that could not be written.
  void exportFailed(QString path, QString message);
  /// Emitted after the overlay was recomputed for the current query and features.
  void heatmapUpdated();
  /// Emitted when features of the current image and model arrived (superseded results are not).
  void featuresUpdated();
  /// Emitted after a checkpoint (or the demo model) became the active model.
  void modelChanged();
  /// Emitted when a checkpoint could not be loaded; the previous model is still active.
  void checkpointFailed(QString path, QString message);
  /// Emitted when a file could not be opened (after the error was logged/shown).
  void openFailed(QString path, QString message);

 protected:
  void showEvent(QShowEvent* event) override;
  /// During training: stops the run (it saves a checkpoint) and waits for it, without asking.
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildDocks();
  void connectPermutationViews();
  void onImageLoaded(quint64 id, const QString& path, const QImage& image);
  void onFeaturesReady(quint64 id, const FeaturesPtr& features, double milliseconds);
  void onFailed(quint64 id, const QString& path, const QString& message);
  void requestFeatures();
  void updateHeatmap();  // the heatmap, then (a frame later) the views that follow the query
  void paintHeatmap();   // the heatmap alone (hover previews)
  void updateStatus();
  void showError(const QString& title, const QString& message);
  void onModelChanged(std::shared_ptr<const FeatureExtractor> model);
  /// The model at the chosen layer goes to every view that extracts (the bank is dropped).
  void installModel();
  void onLayerChanged();
  void dropUrls(QDropEvent* event);
  void buildFeatureDocks();  // MainWindowViews.cpp: feature maps, near/far strip, patch bank
  void updateNearFar();
  void dropPatchBank();
  void updateFollowers();  // the views that follow the query one frame after the heatmap
  void scheduleAutosave();
  void markClosedCleanly();
  void jumpTo(const QString& path, QPoint patch);
  void updateCrossImageTargets();
  bool crossImageShown() const;
  void updateCompare();  // the Before / after dock: the current image (while shown) and query
  void updateEmbedding();  // the Embedding 3-D dock (while shown): points, selection, similarity
  void createEmbeddingView();       // on the dock's first show
  void createPermutationSurface();  // on the dock's first show
  // MainWindowExport.cpp
  void addViewFileActions(QMenu* file);
  void chooseExport();
  void connectViewRestore();
  bool exportViewSized(const QString& basePath, int scale, int pixelWidth);
  void applyViewSettings(const ViewManifest& m);
  void failOpenView(const QString& message);
  QString checkpointSha256(const QString& path) const;
  void prefetchCheckpointSha256(const QString& path);  // on a worker, once a checkpoint is loaded
  // MainWindowRecord.cpp
  void addRecordActions(QMenu* file);
  void chooseRecording(bool sweep);
  std::unique_ptr<VideoRecorder> openRecorder(const QString& path, QSize frameSize, double fps);
  void recordSweepFrame();
  void recordViewsFrame();
  QImage viewsFrame() const;
  void failRecording(const QString& path, const QString& message);

  FeatureService* service_;
  PatchCanvas* canvas_;
  SimilarityControls* controls_;
  LogPanel* log_;
  PermutationView* permutation_;
  SortingNetworkView* network_;
  TrainingPanel* training_;
  TrainingXRayView* xray_;
  SegmentationQualityView* quality_;
  DatasetBrowser* browser_;
  RecentFiles* recentDatasets_;
  ShortcutSheet* shortcuts_;
  QDockWidget* browserDock_ = nullptr;
  FeatureMapView* featureMaps_ = nullptr;
  NearFarStrip* nearFar_ = nullptr;
  PatchBankBuilder* bankBuilder_ = nullptr;
  QDockWidget* featureMapsDock_ = nullptr;
  QDockWidget* nearFarDock_ = nullptr;
  CrossImageView* crossImage_ = nullptr;
  QDockWidget* crossImageDock_ = nullptr;
  std::optional<std::pair<QString, QPoint>> pendingJump_;
  bool hasBank_ = false;
  QTimer* followers_ = nullptr;  // single shot: the permutation view and near/far strip follow
  QTimer* autosave_ = nullptr;   // single shot: saveSession a moment after the last change
  bool closedCleanly_ = false;
  bool persistSession_ = false;
  QList<QPoint> restoreExtras_;  // restoreSession: queries added to the pinned one on arrival  // a near/far click into another image
  QDockWidget* permutationDock_ = nullptr;
  QDockWidget* xrayDock_ = nullptr;
  QDockWidget* qualityDock_ = nullptr;
  QDockWidget* logDock_ = nullptr;
  QDockWidget* networkDock_ = nullptr;
  QDockWidget* trainingDock_ = nullptr;
  bool docksSized_ = false;  // first show sizes the docks in proportion to the window
  DemoBootstrap* demo_;
  CheckpointActions* checkpoints_;
  QLabel* status_;
  QLabel* modelLabel_;
  Colormap colormap_{ColormapKind::Viridis};
  std::shared_ptr<const FeatureExtractor> baseModel_;  // as loaded; the views read it at controls_->layer()
  ModelDescription model_;                            // of the model the views read (its layer included)
  QString path_;
  QString demoRoot_;
  RgbImage image_;
  quint64 latestRequest_ = 0;
  bool extracting_ = false;  // the latest request has not been answered yet
  QString openingPath_;      // the image file of the latest request until it is decoded
  FeaturesPtr features_;
  double extractMs_ = 0.0;
  std::optional<QPoint> query_;
  QList<QPoint> extraQueries_;
  bool hoverPreview_ = false;
  std::optional<QPoint> preview_;  // the hovered patch while previewing
  std::vector<float> similarity_;
  bool interactive_ = true;
  // A view being reopened (openView): waiting for its model, then for its image's features.
  enum class RestoreStage { None, Model, Features };
  RestoreStage restoreStage_ = RestoreStage::None;
  ViewManifest restoring_;
  QString restoringFrom_;
  struct CheckpointHash {
    QString path, stamp;              // the file version: path, mtime and size
    std::shared_future<QString> sha;  // empty when the worker could not read it
  };
  mutable CheckpointHash checkpointHash_;  // the last checkpoint's hash, computed or being computed
  // A recording: the steepness sweep's values and position, or every views update.
  std::unique_ptr<VideoRecorder> recorder_;
  bool recordingViews_ = false;
  std::vector<double> sweep_;
  std::size_t sweepAt_ = 0;
  double sweepRestore_ = 0.0;
  QTimer* sweepTimer_ = nullptr;
  QAction* recordViewsAction_ = nullptr;
  CompareView* compare_ = nullptr;
  QDockWidget* compareDock_ = nullptr;
  QString compareImageKey_;  // path @ input size the Before / after dock was given
  EmbeddingCloudView* embedding_ = nullptr;
  QDockWidget* embeddingDock_ = nullptr;
  FeaturesPtr embeddedFeatures_;  // what the Embedding 3-D dock shows
  PermutationSurfaceView* surface_ = nullptr;
  QDockWidget* surfaceDock_ = nullptr;
};

}  // namespace neco::ui
