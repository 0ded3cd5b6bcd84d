#include "neco/ui/WeightsDownloadDialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include "SlotGuard.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace neco::ui {
namespace {

QString bytesText(std::uint64_t bytes) {
  return QLocale().formattedDataSize(static_cast<qint64>(bytes));
}

}  // namespace

WeightsDownloadDialog::WeightsDownloadDialog(QWidget* parent)
    : QDialog(parent),
      list_(new QTreeWidget(this)),
      download_(new QPushButton(tr("&Download"), this)),
      cancel_(new QPushButton(tr("&Cancel Download"), this)),
      close_(new QPushButton(tr("Close"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)) {
  setWindowTitle(tr("Download official weights"));
  resize(760, 460);
  list_->setObjectName(QStringLiteral("weightsList"));
  list_->setHeaderLabels({tr("Name"), tr("Family"), tr("Description")});
  list_->setRootIsDecorated(false);
  list_->setAlternatingRowColors(true);
  for (const OfficialWeights& w : officialWeights()) {
    auto* item = new QTreeWidgetItem(list_, {QString::fromStdString(w.name), QString::fromStdString(w.family),
                                             QString::fromStdString(w.description)});
    item->setToolTip(0, QString::fromStdString(w.url));
    item->setToolTip(2, QString::fromStdString(w.description));
  }
  list_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  list_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  if (list_->topLevelItemCount() > 0) list_->setCurrentItem(list_->topLevelItem(0));
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_->setText(tr("Files go to %1 and are verified before use; an interrupted download resumes.")
                       .arg(QString::fromStdString(weightsCacheDirectory().string())));
  cancel_->setEnabled(false);

  auto* buttons = new QDialogButtonBox(this);
  buttons->addButton(download_, QDialogButtonBox::ActionRole);
  buttons->addButton(cancel_, QDialogButtonBox::ActionRole);
  buttons->addButton(close_, QDialogButtonBox::RejectRole);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(list_, 1);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(buttons);

  connect(download_, &QPushButton::clicked, this, [this] {
    guardSlot("Download", [this] {
      if (const QTreeWidgetItem* item = list_->currentItem()) download(item->text(0));
    });
  });
  connect(list_, &QTreeWidget::itemActivated, this,
          [this](QTreeWidgetItem* item) { guardSlot("Download", [&] { download(item->text(0)); }); });
  connect(cancel_, &QPushButton::clicked, this, &WeightsDownloadDialog::cancel);
  connect(buttons, &QDialogButtonBox::rejected, this, &WeightsDownloadDialog::reject);
  if (!canDownloadWeights()) {
    download_->setEnabled(false);
    download_->setToolTip(tr("This build has no HTTP client (libcurl)"));
  }
}

WeightsDownloadDialog::~WeightsDownloadDialog() {
  cancelRequested_ = true;
  joinWorker();
}

void WeightsDownloadDialog::setFetchOptions(FetchOptions options) {
  options_ = std::move(options);
}

void WeightsDownloadDialog::joinWorker() {
  if (worker_.joinable()) worker_.join();
}

void WeightsDownloadDialog::download(const QString& name) {
  if (busy()) return;
  joinWorker();  // the previous download's thread has already finished
  const QList<QTreeWidgetItem*> items = list_->findItems(name, Qt::MatchExactly, 0);
  if (!items.isEmpty()) list_->setCurrentItem(items.front());  // Download again then resumes this one
  cancelRequested_ = false;
  closeRequested_ = false;
  finished_ = false;
  download_->setEnabled(false);
  cancel_->setEnabled(true);
  list_->setEnabled(false);
  progress_->setRange(0, 0);  // busy until the size is known
  status_->setText(tr("Downloading %1…").arg(name));
  spdlog::info("downloading weights {}", name.toStdString());
  FetchOptions options = options_;
  worker_ = std::thread([this, options, name]() mutable {
    // Progress comes often: hand it to the UI thread at most every 100 ms (and at the end).
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    options.progress = [this, &last](const DownloadProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last >= std::chrono::milliseconds(100) || (p.total != 0 && p.received == p.total)) {
        last = now;
        QMetaObject::invokeMethod(
            this, [this, p] { guardSlot("download progress", [&] { onProgress(p); }); }, Qt::QueuedConnection);
      }
      return !cancelRequested_.load();
    };
    // The thread's top level catches everything and reports it to the UI thread.
    QString file, error;
    bool cancelled = false;
    try {
      const FetchResult r = fetchWeights(name.toStdString(), options);
      file = QString::fromStdString(r.file.string());
      spdlog::info("{}: {} ({})", name.toStdString(), r.alreadyPresent ? "already in the cache" : "downloaded",
                   r.verifiedBy);
    } catch (const DownloadCancelledError& e) {
      cancelled = true;
      error = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    } catch (...) {
      error = QStringLiteral("unknown error while downloading %1").arg(name);
    }
    QMetaObject::invokeMethod(
        this,
        [this, file, error, cancelled, name] {
          guardSlot("download finished", [&] { onFinished(file, error, cancelled, name); });
        },
        Qt::QueuedConnection);
  });
}

void WeightsDownloadDialog::cancel() {
  if (!busy()) return;
  cancelRequested_ = true;
  cancel_->setEnabled(false);
  status_->setText(tr("Cancelling…"));
}

void WeightsDownloadDialog::reject() {
  if (busy()) {  // close once the worker has stopped; the UI thread never waits for the network
    cancel();
    closeRequested_ = true;
    hide();
    return;
  }
  QDialog::reject();
}

void WeightsDownloadDialog::onProgress(const DownloadProgress& p) {
  if (finished_) return;
  QString text = bytesText(p.received);
  if (p.total != 0) {
    progress_->setRange(0, 1000);
    progress_->setValue(static_cast<int>(1000.0 * static_cast<double>(p.received) / static_cast<double>(p.total)));
    text = tr("%1 of %2").arg(text, bytesText(p.total));
  }
  if (p.bytesPerSecond > 0) text += tr(", %1/s").arg(bytesText(static_cast<std::uint64_t>(p.bytesPerSecond)));
  if (p.resumed) text += tr(" (resumed at %1)").arg(bytesText(p.startedAt));
  progress_->setFormat(text);
  if (!cancelRequested_) status_->setText(tr("Downloading… %1").arg(text));
}

void WeightsDownloadDialog::onFinished(const QString& file, const QString& error, bool cancelled, const QString& name) {
  finished_ = true;
  joinWorker();  // it has posted its last message: joining is immediate
  download_->setEnabled(canDownloadWeights());
  cancel_->setEnabled(false);
  list_->setEnabled(true);
  progress_->setRange(0, 1000);
  if (closeRequested_) {  // closed while downloading: nothing more to show or open
    closeRequested_ = false;
    spdlog::info("download of {} stopped: {}", name.toStdString(), file.isEmpty() ? error.toStdString() : "finished");
    return QDialog::reject();
  }
  if (!file.isEmpty()) {
    progress_->setValue(1000);
    progress_->setFormat(tr("done"));
    status_->setText(tr("Verified and saved to %1").arg(file));
    Q_EMIT downloaded(file);
    return accept();
  }
  QString message = error;
  if (cancelled) {
    QString part;
    try {
      part = QString::fromStdString(weightsCachePath(name.toStdString(), options_.cacheDir).string()) +
             QStringLiteral(".part");
    } catch (const std::exception&) {
    }
    message = tr("Download of %1 cancelled. The partial download stays%2 and Download resumes it.")
                  .arg(name, part.isEmpty() ? QString() : tr(" in %1").arg(part));
    progress_->setFormat(tr("cancelled"));
  } else {
    progress_->setValue(0);
    progress_->setFormat(tr("failed"));
  }
  spdlog::warn("{}", message.toStdString());
  status_->setText(message);
  Q_EMIT failed(message);
}

}  // namespace neco::ui
