// Reproducible exports: File ▸ Export View… writes the similarity canvas and the feature map as
// PNG, the numbers as CSV, the permutation matrices as SVG and a JSON manifest; File ▸ Open View…
// reopens a manifest exactly (weights checked by SHA-256).
//
// Decisions:
//   - The PNGs are re-composed from the image and the per-patch overlay (not a grab of the widget),
//     so their size is exact and independent of the window: the image smoothly scaled to the
//     export size, the overlay drawn nearest-neighbour at the view's opacity, the grid and the
//     selection outline as the canvas draws them (line widths grow with the export size).
//   - The permutation SVG is written by hand (Qt Svg is not a dependency): one rect per cell.
//   - All files are rendered in memory first and committed together (QSaveFile), so a failure
//     leaves no half-written export.
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "SlotGuard.h"
#include "neco/core/BuildInfo.h"
#include "neco/core/Error.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/TrainingPanel.h"

#include <QBuffer>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QMessageBox>
#include <QSaveFile>
#include <QSettings>
#include <QSignalBlocker>
#include <QStandardPaths>
#include <QSpinBox>
#include <QStatusBar>
#include <QThreadPool>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <memory>

namespace neco::ui {
namespace {

constexpr int kMaxExportWidth = 16384;

struct CanvasLook {
  QSize grid;
  bool gridVisible = true;
  double opacity = 0.5;
  std::optional<QPoint> selected;
  QList<QPoint> extra;  // further query patches (dashed outline, as the canvas draws them)
};

// The canvas's paint at `size` (see PatchCanvas::paintEvent), without the widget's margins.
QImage composeCanvas(const QImage& image, const QImage& overlay, const CanvasLook& look, QSize size) {
  QImage out =
      image.convertToFormat(QImage::Format_RGB32).scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  QPainter painter(&out);
  const QRectF target(QPointF(0, 0), QSizeF(size));
  if (!overlay.isNull() && look.opacity > 0.0) {
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.setOpacity(look.opacity);
    painter.drawImage(target, overlay);
    painter.setOpacity(1.0);
  }
  const int cols = look.grid.width(), rows = look.grid.height();
  if (cols <= 0 || rows <= 0) return out;
  const double line = std::max(1.0, size.width() / 800.0);
  if (look.gridVisible) {
    painter.setRenderHint(QPainter::Antialiasing, false);
    painter.setPen(QPen(QColor(255, 255, 255, 70), line));
    for (int c = 1; c < cols; ++c) {
      const double x = target.width() * c / cols;
      painter.drawLine(QPointF(x, 0), QPointF(x, target.bottom()));
    }
    for (int r = 1; r < rows; ++r) {
      const double y = target.height() * r / rows;
      painter.drawLine(QPointF(0, y), QPointF(target.right(), y));
    }
  }
  const double cw = target.width() / cols, ch = target.height() / rows;
  const auto outline = [&](QPoint p) {
    return QRectF(p.x() * cw, p.y() * ch, cw, ch).adjusted(-line, -line, line, line);
  };
  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setBrush(Qt::NoBrush);
  for (QPoint p : look.extra) {
    painter.setPen(QPen(Qt::black, 3.0 * line));
    painter.drawRect(outline(p));
    painter.setPen(QPen(Qt::white, 1.5 * line, Qt::DashLine));
    painter.drawRect(outline(p));
  }
  if (look.selected) {
    painter.setPen(QPen(Qt::black, 3.0 * line));
    painter.drawRect(outline(*look.selected));
    painter.setPen(QPen(Qt::white, 1.5 * line));
    painter.drawRect(outline(*look.selected));
  }
  return out;
}

QByteArray pngBytes(const QImage& image) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (!image.save(&buffer, "PNG")) throw InvalidArgumentError("could not encode a PNG");
  return bytes;
}

// Shortest text that reads back as the same float.
QString exact(float v) {
  return QString::number(double(v), 'g', 9);
}

QByteArray similarityCsv(const std::vector<float>& similarity, int gridW) {
  QByteArray csv("row,column,similarity\n");
  for (std::size_t i = 0; i < similarity.size(); ++i)
    csv += QStringLiteral("%1,%2,%3\n").arg(int(i) / gridW).arg(int(i) % gridW).arg(exact(similarity[i])).toUtf8();
  return csv;
}

QByteArray permutationCsv(const PermutationView& view) {
  QByteArray csv("matrix,element,rank,weight,reference_column,reference_row\n");
  const auto& refs = view.referencePatches();
  for (const auto& [name, row] : {std::pair{"student", &view.studentRow()}, std::pair{"teacher", &view.teacherRow()}}) {
    const int n = (*row)->n;
    for (int e = 0; e < n; ++e) {
      const QPoint ref = std::size_t(e) < refs.size() ? refs[std::size_t(e)] : QPoint(-1, -1);
      for (int r = 0; r < n; ++r)
        csv += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                   .arg(QLatin1String(name))
                   .arg(e)
                   .arg(r)
                   .arg(exact((*row)->permutation[std::size_t(e * n + r)]))
                   .arg(ref.x())
                   .arg(ref.y())
                   .toUtf8();
    }
  }
  return csv;
}

// Both matrices side by side, rows = reference elements, columns = ascending ranks, [0, 1] scale.
QByteArray permutationSvg(const PermutationView& view, ColormapKind kind) {
  const Colormap colormap(kind);
  const int n = view.studentRow()->n;
  constexpr int cell = 8, gap = 24, top = 28, margin = 8;
  const int side = n * cell;
  const int width = 2 * margin + 2 * side + gap, height = top + side + margin;
  QString svg = QStringLiteral(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%1\" height=\"%2\" viewBox=\"0 0 %1 %2\" "
                    "shape-rendering=\"crispEdges\">\n<rect width=\"%1\" height=\"%2\" fill=\"#ffffff\"/>\n")
                    .arg(width)
                    .arg(height);
  const std::pair<QString, const SoftSortRow*> matrices[] = {
      {QStringLiteral("Student s = %1").arg(view.studentSteepness(), 0, 'g', 4), &*view.studentRow()},
      {QStringLiteral("Teacher s = %1").arg(view.teacherSteepness(), 0, 'g', 4), &*view.teacherRow()}};
  for (int m = 0; m < 2; ++m) {
    const int x0 = margin + m * (side + gap);
    svg +=
        QStringLiteral("<g id=\"%1\">\n<text x=\"%2\" y=\"18\" font-family=\"sans-serif\" font-size=\"13\">%3</text>\n")
            .arg(m == 0 ? QStringLiteral("student") : QStringLiteral("teacher"))
            .arg(x0)
            .arg(matrices[m].first);
    const SoftSortRow& row = *matrices[m].second;
    for (int e = 0; e < n; ++e) {
      for (int r = 0; r < n; ++r) {
        const PaletteColor c = colormap.map(row.permutation[std::size_t(e * n + r)], 0.f, 1.f);
        svg += QStringLiteral("<rect x=\"%1\" y=\"%2\" width=\"%3\" height=\"%3\" fill=\"%4\"/>\n")
                   .arg(x0 + r * cell)
                   .arg(top + e * cell)
                   .arg(cell)
                   .arg(QColor(c.r, c.g, c.b).name());
      }
    }
    svg += QStringLiteral("</g>\n");
  }
  svg += QStringLiteral("</svg>\n");
  return svg.toUtf8();
}

// Commits every file or none: all are opened and written before the first commit.
void writeAll(const std::vector<std::pair<QString, QByteArray>>& files) {
  std::vector<std::unique_ptr<QSaveFile>> open;
  for (const auto& [path, data] : files) {
    auto file = std::make_unique<QSaveFile>(path);
    if (!file->open(QIODevice::WriteOnly) || file->write(data) != data.size())
      throw IoError(path.toStdString(), file->errorString().toStdString());
    open.push_back(std::move(file));
  }
  std::vector<bool> existed;
  for (const auto& [path, data] : files) existed.push_back(QFileInfo::exists(path));
  for (std::size_t i = 0; i < open.size(); ++i) {
    if (open[i]->commit()) continue;
    const std::string why = open[i]->errorString().toStdString();
    // All or nothing for what is new; a file that was there before (the user agreed to replace it)
    // is never deleted.
    for (std::size_t j = 0; j < i; ++j)
      if (!existed[j]) QFile::remove(files[j].first);
    throw IoError(files[i].first.toStdString(), why);
  }
}

// Every file an export with this base may write.
QStringList exportTargets(const QString& base) {
  QStringList targets;
  for (const char* suffix : {".png", ".similarity.csv", ".permutation.csv", ".permutation.svg", ".features.png", ".json"})
    targets << base + QLatin1String(suffix);
  return targets;
}

// The version of a file as far as a cached hash is concerned: modification time and size.
QString fileStamp(const QString& path) {
  const QFileInfo info(path);
  return info.lastModified().toString(Qt::ISODateWithMs) + QLatin1Char('/') + QString::number(info.size());
}

QString baseOf(QString path) {
  for (const char* suffix : {".json", ".png"})
    if (path.endsWith(QLatin1String(suffix), Qt::CaseInsensitive)) path.chop(int(qstrlen(suffix)));
  return path;
}

}  // namespace

QString MainWindow::checkpointSha256(const QString& path) const {
  const QString stamp = fileStamp(path);
  const CheckpointHash& known = checkpointHash_;
  if (known.path == path && known.stamp == stamp && known.sha.valid()) {
    const QString sha = known.sha.get();  // waits while the worker still reads the file
    if (!sha.isEmpty()) return sha;
  }
  const QString sha = contentSha256(path);  // throws the reason when the file cannot be read
  std::promise<QString> done;
  done.set_value(sha);
  checkpointHash_ = {path, stamp, done.get_future().share()};
  return sha;
}

void MainWindow::prefetchCheckpointSha256(const QString& path) {
  // A large checkpoint takes a second to hash: read it on a worker right after loading, so the first
  // export or recording does not stall the window.
  const QString stamp = fileStamp(path);
  if (checkpointHash_.path == path && checkpointHash_.stamp == stamp && checkpointHash_.sha.valid()) return;
  auto promise = std::make_shared<std::promise<QString>>();
  checkpointHash_ = {path, stamp, promise->get_future().share()};
  QThreadPool::globalInstance()->start([promise, path] {
    try {
      promise->set_value(contentSha256(path));
    } catch (...) {  // checkpointSha256 hashes again and reports the reason
      promise->set_value(QString());
    }
  });
}

ViewManifest MainWindow::viewManifest() const {
  if (path_.isEmpty() || canvas_->image().isNull()) throw InvalidArgumentError("no image is open");
  ViewManifest m;
  m.appVersion = QString::fromStdString(buildInfo().version);
  m.created = QDateTime::currentDateTimeUtc();
  m.model = model_;
  m.layerIndex = model_.layer;
  if (checkpoints_->activeIsTraining()) {
    m.source = ViewModelSource::Training;
    if (training_->liveStep() >= 0) m.trainingStep = training_->liveStep();
  } else if (!checkpoints_->activePath().isEmpty()) {
    m.source = ViewModelSource::Checkpoint;
    m.checkpointPath = checkpoints_->activePath();
    m.checkpointSha256 = checkpointSha256(m.checkpointPath);
  }
  m.imagePath = QFileInfo(path_).absoluteFilePath();
  m.imageSha256 = contentSha256(path_);
  m.imageSize = canvas_->image().size();
  m.inputSize = controls_->inputSize();
  if (features_) m.grid = QSize(features_->gridW, features_->gridH);
  m.queryPatch = query_;
  if (query_) m.extraQueryPatches = extraQueries_;
  m.colormap = controls_->colormap();
  m.opacity = controls_->opacity();
  m.gridVisible = controls_->gridVisible();
  m.studentSteepness = permutation_->studentSteepness();
  m.teacherSteepness = permutation_->teacherSteepness();
  m.network = permutation_->network();
  m.relaxation = permutation_->relaxation();
  m.featureMode = int(featureMaps_->mode());
  m.components = featureMaps_->components();
  m.backgroundThreshold = featureMaps_->backgroundThreshold();
  m.basisLocked = featureMaps_->basisLocked();
  m.clusters = featureMaps_->clusterCount();
  m.featureOpacity = featureMaps_->opacity();
  if (const auto basis = featureMaps_->basis()) m.basis = *basis;
  return m;
}

bool MainWindow::exportView(const QString& basePath, int scale) {
  return exportViewSized(basePath, scale, 0);
}

bool MainWindow::exportViewAtWidth(const QString& basePath, int pixelWidth) {
  return exportViewSized(basePath, 0, pixelWidth);
}

bool MainWindow::exportViewSized(const QString& basePath, int scale, int pixelWidth) {
  const QString base = baseOf(basePath);
  QString failedPath = base + QStringLiteral(".json");
  try {
    const QImage& image = canvas_->image();
    if (image.isNull() || !features_)
      throw InvalidArgumentError("nothing to export: open an image and wait for its features");
    // The heatmap must be of the model and size the manifest names.
    if (extracting_ || checkpoints_->busy())
      throw InvalidArgumentError("the view is being recomputed (a new model or input size): export once it is shown");
    // NOTE: never over the user's own data: the open image, the checkpoint.
    for (const QString& target : exportTargets(base)) {
      const QString canonical = QFileInfo(target).canonicalFilePath();
      if (canonical.isEmpty()) continue;
      if (canonical == QFileInfo(path_).canonicalFilePath() ||
          canonical == QFileInfo(checkpoints_->activePath()).canonicalFilePath())
        throw InvalidArgumentError(
            QStringLiteral("%1 is the open image or checkpoint: choose another name").arg(target).toStdString());
    }
    QSize size = image.size() * std::max(scale, 1);
    if (pixelWidth > 0)
      size = QSize(pixelWidth, std::max(1, int(std::lround(double(pixelWidth) * image.height() / image.width()))));
    if (size.width() > kMaxExportWidth || size.height() > kMaxExportWidth)
      throw InvalidArgumentError(QStringLiteral("%1 x %2 px is larger than %3 px")
                                     .arg(size.width())
                                     .arg(size.height())
                                     .arg(kMaxExportWidth)
                                     .toStdString());
    // The pinned view, not a hover preview; the permutation rows of the current query (the views
    // that follow the query are updated a frame late, see updateHeatmap).
    if (preview_) {
      preview_.reset();
      paintHeatmap();
    }
    permutation_->setSource(features_, query_);
    ViewManifest manifest = viewManifest();
    manifest.exportSize = size;
    const QSize grid(features_->gridW, features_->gridH);
    std::vector<std::pair<QString, QByteArray>> files;
    const QImage heat = canvas_->hasOverlay()
                            ? similarityOverlay(similarity_, grid.width(), grid.height(), colormap_)
                            : QImage();
    files.emplace_back(
        base + QStringLiteral(".png"),
        pngBytes(composeCanvas(image, heat,
                               {grid, controls_->gridVisible(), controls_->opacity(), query_, extraQueries_}, size)));
    if (!similarity_.empty())
      files.emplace_back(base + QStringLiteral(".similarity.csv"), similarityCsv(similarity_, grid.width()));
    if (permutation_->studentRow() && permutation_->teacherRow()) {
      files.emplace_back(base + QStringLiteral(".permutation.csv"), permutationCsv(*permutation_));
      files.emplace_back(base + QStringLiteral(".permutation.svg"),
                         permutationSvg(*permutation_, controls_->colormap()));
    }
    if (!featureMaps_->overlay().isNull()) {
      const CanvasLook look{grid, featureMaps_->canvas()->gridVisible(), featureMaps_->opacity(), std::nullopt, {}};
      files.emplace_back(base + QStringLiteral(".features.png"),
                         pngBytes(composeCanvas(image, featureMaps_->overlay(), look, size)));
    }
    files.emplace_back(base + QStringLiteral(".json"), toJson(manifest));
    writeAll(files);
    QSettings().setValue(QStringLiteral("export/folder"), QFileInfo(base).absolutePath());
    spdlog::info("exported the view to {}.* ({} files, {} x {} px)", base.toStdString(), files.size(), size.width(),
                 size.height());
    statusBar()->showMessage(tr("Exported %1 files to %2.*").arg(files.size()).arg(QDir::toNativeSeparators(base)),
                             8000);
    return true;
  } catch (const IoError& e) {
    failedPath = QString::fromStdString(e.path().string());
    Q_EMIT exportFailed(failedPath, QString::fromStdString(e.what()));
    showError(tr("Export view"),
              tr("Nothing was exported: %1").arg(QString::fromStdString(e.what())));  // names the file
  } catch (const std::exception& e) {
    Q_EMIT exportFailed(failedPath, QString::fromStdString(e.what()));
    showError(tr("Export view"), QString::fromStdString(e.what()));
  }
  return false;
}

void MainWindow::failOpenView(const QString& message) {
  const QString from = restoringFrom_;
  restoreStage_ = RestoreStage::None;
  Q_EMIT viewOpenFailed(from, message);
  showError(tr("Open view"), message);
}

bool MainWindow::openView(const QString& manifestPath) {
  restoreStage_ = RestoreStage::None;  // a newer request supersedes one in flight
  restoringFrom_ = manifestPath;
  ViewManifest m;
  try {
    QFile file(manifestPath);
    if (!file.open(QIODevice::ReadOnly)) throw IoError(manifestPath.toStdString(), file.errorString().toStdString());
    m = viewManifestFromJson(file.readAll(), manifestPath);
    if (m.source == ViewModelSource::Training)
      throw InvalidArgumentError(
          QStringLiteral("%1 was exported from the live weights of a training run (step %2), which "
                         "cannot be reopened: export again with a saved checkpoint open")
              .arg(manifestPath)
              .arg(m.trainingStep.value_or(-1))
              .toStdString());
    if (!QFileInfo::exists(m.imagePath))
      throw InvalidArgumentError(QStringLiteral("the view's image %1 does not exist").arg(m.imagePath).toStdString());
    const QString imageSha = contentSha256(m.imagePath);
    if (imageSha != m.imageSha256)
      throw InvalidArgumentError(QStringLiteral("the image %1 changed since the export: SHA-256 %2, the manifest "
                                                "records %3")
                                     .arg(m.imagePath, imageSha, m.imageSha256)
                                     .toStdString());
    if (m.source == ViewModelSource::Checkpoint) {
      if (!QFileInfo::exists(m.checkpointPath))
        throw InvalidArgumentError(
            QStringLiteral("the view's checkpoint %1 does not exist").arg(m.checkpointPath).toStdString());
      const QString sha = checkpointSha256(m.checkpointPath);
      if (sha != m.checkpointSha256)
        throw InvalidArgumentError(
            QStringLiteral("the checkpoint %1 is not the one of the view: its SHA-256 is %2, the "
                           "manifest records %3")
                .arg(m.checkpointPath, sha, m.checkpointSha256)
                .toStdString());
    } else if (const std::string demo = checkpoints_->demoDescription().weights; demo != m.model.weights) {
      throw InvalidArgumentError(QStringLiteral("the view used the demo model with weights '%1'; this studio's demo "
                                                "model has '%2'")
                                     .arg(QString::fromStdString(m.model.weights), QString::fromStdString(demo))
                                     .toStdString());
    }
    applyViewSettings(m);
  } catch (const std::exception& e) {
    failOpenView(QString::fromStdString(e.what()));
    return false;
  }
  spdlog::info("opening the view {}", manifestPath.toStdString());
  restoring_ = m;
  restoreStage_ = RestoreStage::Model;
  if (m.source == ViewModelSource::Checkpoint)
    openCheckpoint(m.checkpointPath);
  else
    useDemoModel();  // emits modelChanged at once
  return true;
}

void MainWindow::applyViewSettings(const ViewManifest& m) {
  controls_->setInputSize(m.inputSize);
  controls_->setColormap(m.colormap);
  controls_->setOpacity(m.opacity);
  controls_->setGridVisible(m.gridVisible);
  permutation_->setStudentSteepness(m.studentSteepness);
  permutation_->setTeacherSteepness(m.teacherSteepness);
  permutation_->setNetwork(m.network);
  permutation_->setRelaxation(m.relaxation);
  featureMaps_->setMode(static_cast<FeatureMapMode>(m.featureMode));
  featureMaps_->setComponents(m.components);
  featureMaps_->setBackgroundThreshold(m.backgroundThreshold);
  featureMaps_->setClusterCount(m.clusters);
  featureMaps_->setOpacity(m.featureOpacity);
  if (!m.basis.empty())
    featureMaps_->setBasis(m.basis, m.basisLocked);
  else
    featureMaps_->setBasisLocked(m.basisLocked);
}

void MainWindow::connectViewRestore() {
  connect(this, &MainWindow::modelChanged, this, [this] {
    if (restoreStage_ != RestoreStage::Model) return;
    if (restoring_.layerIndex > model_.depth) {
      return failOpenView(tr("The view reads block %1, but its model has %2 blocks")
                              .arg(restoring_.layerIndex)
                              .arg(model_.depth));
    }
    {
      const QSignalBlocker quiet(controls_);
      controls_->setLayer(restoring_.layerIndex);
    }
    installModel();
    restoreStage_ = RestoreStage::Features;
    pendingJump_.reset();
    if (restoring_.queryPatch) pendingJump_ = {restoring_.imagePath, *restoring_.queryPatch};
    openImage(restoring_.imagePath);  // features of the restored model; the query is pinned on arrival
  });
  connect(this, &MainWindow::checkpointFailed, this, [this](const QString& path, const QString& message) {
    if (restoreStage_ == RestoreStage::Model)
      failOpenView(tr("Cannot load the view's checkpoint %1: %2").arg(path, message));
  });
  connect(this, &MainWindow::openFailed, this, [this](const QString& path, const QString& message) {
    if (restoreStage_ == RestoreStage::Features)
      failOpenView(tr("Cannot open the view's image %1: %2").arg(path, message));
  });
  connect(this, &MainWindow::featuresUpdated, this, [this] {
    if (restoreStage_ != RestoreStage::Features || QFileInfo(path_) != QFileInfo(restoring_.imagePath)) return;
    restoreStage_ = RestoreStage::None;
    for (QPoint p : restoring_.extraQueryPatches)
      if (query_ && p.x() < features_->gridW && p.y() < features_->gridH) addQueryPatch(p);
    permutation_->setSource(features_, query_);  // at once, not a frame later: the view is complete
    if (restoring_.grid.isValid() && restoring_.grid != QSize(features_->gridW, features_->gridH))
      spdlog::warn("view {}: grid {} x {} differs from the exported {} x {}", restoringFrom_.toStdString(),
                   features_->gridW, features_->gridH, restoring_.grid.width(), restoring_.grid.height());
    spdlog::info("view restored from {}", restoringFrom_.toStdString());
    Q_EMIT viewOpened();  // onFeaturesReady drew the heatmap of the pinned query before this signal
  });
}

void MainWindow::addViewFileActions(QMenu* file) {
  QAction* exportAction =
      file->addAction(tr("&Export View…"), this, [this] { guardSlot("Export View", [this] { chooseExport(); }); });
  exportAction->setObjectName(QStringLiteral("exportViewAction"));
  exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  exportAction->setToolTip(
      tr("PNG of the view, CSV of its numbers, SVG of the permutation matrices and a JSON "
         "manifest that reopens it"));
  QAction* openAction = file->addAction(tr("Open &View…"), this, [this] {
    guardSlot("Open View", [this] {
      const QString path = QFileDialog::getOpenFileName(this, tr("Open view"), QFileInfo(path_).absolutePath(),
                                                        tr("View manifests (*.json);;All files (*)"));
      if (!path.isEmpty()) openView(path);
    });
  });
  openAction->setObjectName(QStringLiteral("openViewAction"));
}

void MainWindow::chooseExport() {
  auto* dialog = new QDialog(this);
  dialog->setObjectName(QStringLiteral("exportViewDialog"));
  dialog->setWindowTitle(tr("Export view"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* name = new QLineEdit(dialog);
  // Never the dataset's folder by default: the last export folder, else Pictures.
  QString folder = QSettings().value(QStringLiteral("export/folder")).toString();
  if (folder.isEmpty() || !QFileInfo(folder).isDir()) folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (folder.isEmpty()) folder = QDir::homePath();
  const QString stem = path_.isEmpty() ? QStringLiteral("view") : QFileInfo(path_).completeBaseName() + QStringLiteral("-view");
  name->setText(QDir(folder).filePath(stem));
  auto* browse = new QPushButton(tr("Browse…"), dialog);
  connect(browse, &QPushButton::clicked, dialog, [this, dialog, name] {
    const QString chosen = QFileDialog::getSaveFileName(dialog, tr("Export view as"), name->text(), tr("PNG (*.png)"));
    if (!chosen.isEmpty()) name->setText(baseOf(chosen));
  });
  auto* scale = new QComboBox(dialog);
  for (int s : {1, 2, 4}) scale->addItem(tr("%1× the image").arg(s), s);
  scale->addItem(tr("Pixel width"), 0);
  auto* width = new QSpinBox(dialog);
  width->setRange(16, kMaxExportWidth);
  width->setValue(std::max(16, canvas_->image().width() * 2));
  width->setSuffix(tr(" px"));
  width->setEnabled(false);
  connect(scale, &QComboBox::currentIndexChanged, width,
          [scale, width] { width->setEnabled(scale->currentData().toInt() == 0); });
  auto* row = new QHBoxLayout;
  row->addWidget(name, 1);
  row->addWidget(browse);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
  auto* form = new QFormLayout(dialog);
  form->addRow(tr("File name"), row);
  form->addRow(tr("Resolution"), scale);
  form->addRow(tr("Width"), width);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, dialog, [this, dialog, name, scale, width] {
    const int s = scale->currentData().toInt();
    const QString base = baseOf(name->text());
    const int pixels = width->value();
    auto run = [this, base, s, pixels] {
      guardSlot("export view", [&] {
        if (s > 0)
          exportView(base, s);
        else
          exportViewAtWidth(base, pixels);
      });
    };
    dialog->accept();
    QStringList existing;
    for (const QString& target : exportTargets(base))
      if (QFileInfo::exists(target)) existing << QFileInfo(target).fileName();
    if (existing.isEmpty()) return run();
    auto* ask = new QMessageBox(QMessageBox::Question, tr("Export view"),
                                tr("These files exist and would be replaced:\n%1").arg(existing.join(QLatin1Char('\n'))),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    ask->setAttribute(Qt::WA_DeleteOnClose);
    connect(ask, &QMessageBox::accepted, this, run);  // Yes (an accept-role button)
    ask->open();  // never a nested event loop inside a slot
  });
  dialog->open();  // never a nested event loop inside a slot
}

}  // namespace neco::ui
