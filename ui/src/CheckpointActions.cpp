#include "CheckpointActions.h"

#include "SlotGuard.h"
#include "neco/ui/CheckpointOptionsDialog.h"
#include "neco/ui/RecentFiles.h"
#include "neco/ui/WeightsDownloadDialog.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>

#include <spdlog/spdlog.h>

namespace neco::ui {
namespace {

QString parametersText(std::int64_t count) {
  if (count >= 1000000) return QObject::tr("%1 M parameters").arg(static_cast<double>(count) / 1e6, 0, 'f', 1);
  return QObject::tr("%1 parameters").arg(QLocale().toString(static_cast<qlonglong>(count)));
}

QString architectureText(const ModelDescription& m) {
  return QObject::tr("ViT/%1, %2 registers, %3-d, %4 blocks, %5 heads")
      .arg(m.patchSize)
      .arg(m.numRegisters)
      .arg(m.embedDim)
      .arg(m.depth)
      .arg(m.numHeads);
}

QString joinedKeys(const std::vector<std::string>& keys) {
  QStringList list;
  for (std::size_t i = 0; i < keys.size() && i < 6; ++i) list << QString::fromStdString(keys[i]);
  if (keys.size() > 6) list << QObject::tr("… (%1 in all)").arg(keys.size());
  return list.join(QStringLiteral(", "));
}

QString keyProblems(const CheckpointReport& r) {
  QStringList parts;
  if (!r.missing.empty()) parts << QObject::tr("missing %1").arg(joinedKeys(r.missing));
  if (!r.unexpected.empty()) parts << QObject::tr("unexpected %1").arg(joinedKeys(r.unexpected));
  if (!r.mismatched.empty()) parts << QObject::tr("mismatched %1").arg(joinedKeys(r.mismatched));
  return parts.join(QStringLiteral("; "));
}

QString reportDetails(const LoadedCheckpoint& c) {
  const CheckpointReport& r = c.report;
  QStringList lines{c.path, QObject::tr("format: %1").arg(QString::fromStdString(r.format)),
                    QObject::tr("layout: %1").arg(QString::fromStdString(r.layout)),
                    QObject::tr("architecture: %1").arg(QString::fromStdString(r.architecture)),
                    QObject::tr("interpolation: %1").arg(QString::fromStdString(r.interpolation))};
  if (!r.stateDict.empty()) lines << QObject::tr("state dict: %1").arg(QString::fromStdString(r.stateDict));
  if (!r.part.empty()) lines << QObject::tr("network: %1").arg(QString::fromStdString(r.part));
  if (!r.prefix.empty()) lines << QObject::tr("prefix stripped: %1").arg(QString::fromStdString(r.prefix));
  if (!r.matches()) lines << QObject::tr("loaded non-strictly: %1").arg(keyProblems(r));
  for (const std::string& note : r.notes) lines << QString::fromStdString(note);
  return lines.join(QLatin1Char('\n'));
}

QString demoSummary(const ModelDescription& m) {
  return QObject::tr("Demo model\nweights: %1\n%2\n%3")
      .arg(QString::fromStdString(m.weights), architectureText(m), parametersText(m.parameterCount));
}

QString demoDetails(const ModelDescription& m) {
  return QObject::tr("The built-in demo ViT '%1' (no download needed).").arg(QString::fromStdString(m.name));
}

}  // namespace

CheckpointActions::CheckpointActions(QWidget* window, std::shared_ptr<const FeatureExtractor> demo)
    : QObject(window),
      window_(window),
      demo_(std::move(demo)),
      loader_(new CheckpointLoader(this)),
      recent_(new RecentFiles(tr("Recent &Checkpoints"), QStringLiteral("studio/recentCheckpoints"), 8, this)) {
  connect(loader_, &CheckpointLoader::loaded, this,
          [this](const LoadedCheckpoint& c) { guardSlot("checkpoint loaded", [&] { onLoaded(c); }); });
  connect(loader_, &CheckpointLoader::failed, this,
          [this](const CheckpointFailure& f) { guardSlot("checkpoint failed", [&] { onFailed(f); }); });
  connect(recent_, &RecentFiles::openRequested, this,
          [this](const QString& path) { guardSlot("open recent checkpoint", [&] { open(path); }); });
  const ModelDescription m = demo_->describe();
  name_ = tr("demo model");
  summary_ = demoSummary(m);
  details_ = demoDetails(m);
}

CheckpointActions::~CheckpointActions() = default;

void CheckpointActions::addTo(QMenu* file) {
  file->setToolTipsVisible(true);
  file->addAction(tr("Open &Checkpoint…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this,
                  [this] { guardSlot("Open Checkpoint", [this] { chooseFile(); }); });
  file->addAction(tr("Open &Hugging Face Folder…"), this,
                  [this] { guardSlot("Open Hugging Face Folder", [this] { chooseFolder(); }); });
  file->addMenu(recent_->menu());
  file->addAction(tr("Checkpoint &Options…"), this,
                  [this] { guardSlot("Checkpoint Options", [this] { editOptions({}); }); });
  download_ = file->addAction(tr("Download Official &Weights…"), this,
                              [this] { guardSlot("Download Official Weights", [this] { downloadWeights(); }); });
  if (!canDownloadWeights()) {
    download_->setEnabled(false);
    download_->setToolTip(tr("This build cannot download (no libcurl). Put the file in %1 by hand and open it "
                             "with File ▸ Open Checkpoint…")
                              .arg(QString::fromStdString(weightsCacheDirectory().string())));
  }
  file->addAction(tr("Use De&mo Model"), this, [this] { guardSlot("Use Demo Model", [this] { useDemo(); }); });
}

bool CheckpointActions::isCheckpoint(const QFileInfo& info) {
  if (info.isFile()) {
    static const QStringList suffixes{QStringLiteral("pth"), QStringLiteral("pt"), QStringLiteral("ckpt"),
                                      QStringLiteral("bin"), QStringLiteral("safetensors")};
    return suffixes.contains(info.suffix().toLower());
  }
  if (!info.isDir()) return false;
  const QDir dir(info.filePath());
  return dir.exists(QStringLiteral("config.json")) && (dir.exists(QStringLiteral("model.safetensors")) ||
                                                       dir.exists(QStringLiteral("model.safetensors.index.json")) ||
                                                       dir.exists(QStringLiteral("pytorch_model.bin")));
}

void CheckpointActions::open(const QString& path) {
  open(path, CheckpointOptionsDialog::remembered());
}

void CheckpointActions::open(const QString& path, const CheckpointOptions& options) {
  spdlog::info("opening checkpoint {}{}", path.toStdString(), options.strict ? "" : " (non-strict)");
  lastDir_ = QFileInfo(path).absolutePath();
  loading_ = true;
  loader_->request(path, options);
}

void CheckpointActions::useDemo() {
  loader_->discard();
  loading_ = false;
  spdlog::info("using the demo model");
  activePath_.clear();
  activeIsTraining_ = false;
  const ModelDescription m = demo_->describe();
  activate(demo_, tr("demo model"), demoSummary(m), demoDetails(m));
}

void CheckpointActions::useTrainingModel(std::shared_ptr<const FeatureExtractor> model, const QString& label) {
  if (!model) return;
  const ModelDescription m = model->describe();
  activePath_.clear();
  activeIsTraining_ = true;
  activate(std::move(model), label, tr("%1\n%2\n%3").arg(label, architectureText(m), parametersText(m.parameterCount)),
           tr("Live weights of a training run: %1").arg(QString::fromStdString(m.weights)));
}

void CheckpointActions::activate(std::shared_ptr<const FeatureExtractor> model, QString name, QString summary,
                                 QString details) {
  name_ = std::move(name);
  summary_ = std::move(summary);
  details_ = std::move(details);
  Q_EMIT modelChanged(std::move(model));
}

void CheckpointActions::onLoaded(const LoadedCheckpoint& c) {
  loading_ = false;
  const CheckpointReport& r = c.report;
  if (!r.matches())
    spdlog::warn("{}: loaded non-strictly (missing weights stay random, unexpected ones are ignored): {}",
                 c.path.toStdString(), keyProblems(r).toStdString());
  QString where = tr("layout %1").arg(QString::fromStdString(r.layout));
  if (!r.part.empty()) where += tr(", %1").arg(QString::fromStdString(r.part));
  recent_->add(c.path);
  activePath_ = QFileInfo(c.path).absoluteFilePath();
  activeIsTraining_ = false;
  const QString name = QFileInfo(c.path).fileName();
  QString architecture = QString::fromStdString(r.architecture);
  if (architecture.startsWith(QStringLiteral("custom: "))) architecture.remove(0, 8);
  activate(c.extractor, name,
           tr("%1\n%2\n%3\n%4%5")
               .arg(name, architecture, where, parametersText(c.model.parameterCount),
                    r.matches() ? QString() : tr("\nloaded non-strictly: keys did not match")),
           reportDetails(c));
}

void CheckpointActions::onFailed(const CheckpointFailure& failure) {
  loading_ = false;
  QString note;
  if (!QFileInfo::exists(failure.path) && recent_->paths().contains(failure.path)) {
    recent_->remove(failure.path);
    note = tr("It was removed from the recent checkpoints.");
  }
  Q_EMIT failed(failure.path, failure.message);
  if (interactive_) showFailure(failure, note);
}

void CheckpointActions::showFailure(const CheckpointFailure& failure, const QString& note) {
  if (errorBox_) errorBox_->close();
  auto* box =
      new QMessageBox(QMessageBox::Warning, tr("Cannot open checkpoint"), failure.message, QMessageBox::Close, window_);
  box->setObjectName(QStringLiteral("checkpointErrorBox"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  QStringList info;
  using Kind = CheckpointFailure::Kind;
  if (failure.kind == Kind::Refused)
    info << tr("NeCo Studio reads only tensors from a checkpoint and never runs code from it.");
  if (failure.kind == Kind::KeyMismatch) {
    info << tr(
        "Load anyway (non-strict) uses the tensors that match and leaves the rest at random values; "
        "the log lists what did not match.");
    QPushButton* anyway = box->addButton(tr("Load anyway (non-strict)"), QMessageBox::AcceptRole);
    anyway->setObjectName(QStringLiteral("loadNonStrict"));
    CheckpointOptions options = failure.options;
    options.strict = false;
    connect(anyway, &QPushButton::clicked, this,
            [this, path = failure.path, options] { guardSlot("Load anyway", [&] { open(path, options); }); });
  }
  if (failure.kind == Kind::NeedsOptions) {
    info << tr("Checkpoint Options… sets the network, registers, attention heads and interpolation.");
    QPushButton* edit = box->addButton(tr("Checkpoint Options…"), QMessageBox::ActionRole);
    edit->setObjectName(QStringLiteral("editOptions"));
    connect(edit, &QPushButton::clicked, this,
            [this, path = failure.path] { guardSlot("Checkpoint Options", [&] { editOptions(path); }); });
  }
  if (!note.isEmpty()) info << note;
  info << tr("The model in use stays active.");
  box->setInformativeText(info.join(QLatin1Char(' ')));
  box->setTextInteractionFlags(Qt::TextSelectableByMouse);
  errorBox_ = box;
  box->open();  // non-blocking: the window keeps running (and tests can read the box)
}

void CheckpointActions::chooseFile() {
  const QString path =
      QFileDialog::getOpenFileName(window_, tr("Open checkpoint"), lastDir_,
                                   tr("Checkpoints (*.pth *.pt *.ckpt *.bin *.safetensors);;All files (*)"));
  if (!path.isEmpty()) open(path);
}

void CheckpointActions::chooseFolder() {
  const QString path = QFileDialog::getExistingDirectory(window_, tr("Open Hugging Face model folder"), lastDir_);
  if (!path.isEmpty()) open(path);
}

void CheckpointActions::editOptions(const QString& reopen) {
  auto* dialog = new CheckpointOptionsDialog(window_);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  if (!reopen.isEmpty())
    connect(dialog, &QDialog::accepted, this,
            [this, reopen] { guardSlot("reopen checkpoint", [&] { open(reopen); }); });
  dialog->open();
}

void CheckpointActions::downloadWeights() {
  if (downloadDialog_) {
    downloadDialog_->show();
    downloadDialog_->raise();
    return;
  }
  downloadDialog_ = new WeightsDownloadDialog(window_);
  downloadDialog_->setAttribute(Qt::WA_DeleteOnClose);
  connect(downloadDialog_, &WeightsDownloadDialog::downloaded, this,
          [this](const QString& file) { guardSlot("open downloaded weights", [&] { open(file); }); });
  downloadDialog_->show();
}

}  // namespace neco::ui
