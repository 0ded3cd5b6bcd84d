#pragma once
// The studio's model entries of the File menu (Open Checkpoint…, Open Hugging Face Folder…, Recent
// Checkpoints, Checkpoint Options…, Download Official Weights…, Use Demo Model) and what they run:
// loading off the UI thread, the recent list, the error dialog with "Load anyway (non-strict)".
// It decides which model is active; the window swaps it into its FeatureService on modelChanged.

#include "CheckpointLoader.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

class QAction;
class QFileInfo;
class QMenu;
class QMessageBox;
class QWidget;

namespace neco::ui {

class RecentFiles;
class WeightsDownloadDialog;

class CheckpointActions : public QObject {
  Q_OBJECT
 public:
  /// `window` parents the dialogs; `demo` is the built-in model ("Use Demo Model") and active at first.
  CheckpointActions(QWidget* window, std::shared_ptr<const FeatureExtractor> demo);
  ~CheckpointActions() override;

  /// Adds the entries to the File menu.
  void addTo(QMenu* file);
  /// Loads a checkpoint file or Hugging Face folder with the remembered options (or these).
  void open(const QString& path);
  void open(const QString& path, const CheckpointOptions& options);
  /// Makes the built-in model active again and drops any load in flight.
  void useDemo();
  /// Makes a network being trained active (the training panel's live weights); `label` names it
  /// ("student of <run> at step N"). A checkpoint load in flight still lands when it completes.
  void useTrainingModel(std::shared_ptr<const FeatureExtractor> model, const QString& label);
  /// Whether a load was requested and its result has not arrived yet.
  bool busy() const noexcept { return loading_; }
  void setInteractive(bool interactive) { interactive_ = interactive; }

  /// The active model: a short name ("demo model", a file name), a few lines describing it
  /// (architecture, layout, parameters), and the details for a tooltip (format, notes).
  QString name() const { return name_; }
  QString summary() const { return summary_; }
  QString details() const { return details_; }
  RecentFiles* recent() const noexcept { return recent_; }
  /// The checkpoint file or folder of the active model; empty for the demo model and for live
  /// training weights (exported view manifests record and check it).
  QString activePath() const { return activePath_; }
  /// Whether the active model is a training run's live weights.
  bool activeIsTraining() const noexcept { return activeIsTraining_; }
  /// The built-in demo model (its weights name its seed).
  ModelDescription demoDescription() const { return demo_->describe(); }
  QAction* downloadAction() const noexcept { return download_; }
  /// Whether a dropped file or folder is a checkpoint (by extension; a folder by its Hugging Face files).
  static bool isCheckpoint(const QFileInfo& info);

 Q_SIGNALS:
  void modelChanged(std::shared_ptr<const neco::FeatureExtractor> model);
  void failed(QString path, QString message);

 private:
  void onLoaded(const LoadedCheckpoint& checkpoint);
  void onFailed(const CheckpointFailure& failure);
  void showFailure(const CheckpointFailure& failure, const QString& note);
  void activate(std::shared_ptr<const FeatureExtractor> model, QString name, QString summary, QString details);
  void chooseFile();
  void chooseFolder();
  void editOptions(const QString& reopen);
  void downloadWeights();

  QWidget* window_;
  std::shared_ptr<const FeatureExtractor> demo_;
  CheckpointLoader* loader_;
  RecentFiles* recent_;
  QAction* download_ = nullptr;
  QPointer<QMessageBox> errorBox_;
  QPointer<WeightsDownloadDialog> downloadDialog_;
  QString name_;
  QString summary_;
  QString details_;
  QString lastDir_;
  QString activePath_;
  bool activeIsTraining_ = false;
  bool interactive_ = true;
  bool loading_ = false;
};

}  // namespace neco::ui
