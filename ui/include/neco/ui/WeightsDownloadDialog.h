#pragma once
// File ▸ Download Official Weights…: lists the registry of released weights, downloads the chosen
// one on a worker thread (verified and resumable, see neco/core/Weights.h) with a progress bar and
// Cancel, and reports the verified file. Offline, the message says where to put the file by hand.

#include "neco/core/Weights.h"

#include <QDialog>
#include <QString>

#include <atomic>
#include <thread>

class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace neco::ui {

class WeightsDownloadDialog : public QDialog {
  Q_OBJECT
 public:
  explicit WeightsDownloadDialog(QWidget* parent = nullptr);
  /// Cancels a running download (the partial file stays) and waits for its thread (about a second).
  ~WeightsDownloadDialog() override;

  /// What every download uses (cache folder, mirror URL, expected SHA-256). The progress callback is
  /// the dialog's own.
  void setFetchOptions(FetchOptions options);
  /// Starts downloading the registry entry `name` (what the Download button does for the selection).
  void download(const QString& name);
  /// Asks a running download to stop; it stops at its next progress callback.
  void cancel();
  bool busy() const noexcept { return worker_.joinable() && !finished_; }

  QTreeWidget* list() const noexcept { return list_; }
  QPushButton* downloadButton() const noexcept { return download_; }
  QPushButton* cancelButton() const noexcept { return cancel_; }
  QProgressBar* progressBar() const noexcept { return progress_; }
  QLabel* statusLabel() const noexcept { return status_; }

 Q_SIGNALS:
  /// The download finished and verified: `file` is ready to open. The dialog then closes.
  void downloaded(QString file);
  /// The download failed or was cancelled; `message` is also shown in the dialog.
  void failed(QString message);

 protected:
  void reject() override;  ///< Close / Escape: cancels a running download first

 private:
  void onProgress(const DownloadProgress& progress);
  void onFinished(const QString& file, const QString& error, bool cancelled, const QString& name);
  void joinWorker();

  QTreeWidget* list_;
  QPushButton* download_;
  QPushButton* cancel_;
  QPushButton* close_;
  QProgressBar* progress_;
  QLabel* status_;
  FetchOptions options_;
  std::thread worker_;
  std::atomic<bool> cancelRequested_{false};
  bool finished_ = true;
  bool closeRequested_ = false;  // closed while downloading: close for good once the worker stops
};

}  // namespace neco::ui
