#pragma once
// The JSON manifest of an exported view (File ▸ Export View…): everything needed to reopen the
// exact view (File ▸ Open View…) — which weights (checkpoint path + SHA-256, or the demo model's
// seed, or a live training step), which image (path + SHA-256 + size), the model input size, the
// query patch, the colour scale, the permutation settings and the feature-map settings with the PCA
// basis as numbers (so the colours reproduce even when the basis was locked on another checkpoint).
// The keys are documented in docs/EXPORTS.md.
//
// Decisions:
//   - Plain data; MainWindow fills it from its views and applies it back. No widget is touched here.
//   - fromJson() validates every key it reads and throws neco::FormatError naming the key and the
//     reason ("view.json: key 'image.sha256': expected 64 hex digits"); a newer schema is refused.

#include "neco/core/Colormap.h"
#include "neco/core/FeatureMaps.h"
#include "neco/core/SoftSort.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QPoint>
#include <QSize>
#include <QString>

#include <array>
#include <optional>

namespace neco::ui {

enum class ViewModelSource { Demo, Checkpoint, Training };

struct ViewManifest {
  static constexpr int kSchemaVersion = 1;

  int schemaVersion = kSchemaVersion;
  QString appVersion;  ///< neco::buildInfo().version of the exporting studio
  QDateTime created;   ///< UTC

  // The weights.
  ViewModelSource source = ViewModelSource::Demo;
  QString checkpointPath;    ///< absolute; empty for the demo model and live training weights
  QString checkpointSha256;  ///< lower-case hex of the file (a folder: see docs/EXPORTS.md); empty without a file
  std::optional<qint64> trainingStep;            ///< the step of live training weights
  ModelDescription model;                        ///< architecture; model.weights is e.g. "random, seed 0" for the demo
  QString layer = QStringLiteral("final-norm");  ///< the output read: block layerIndex through the final norm
  int layerIndex = 0;                            ///< that block, 1-based (model.depth: the last)

  // The image and the query.
  QString imagePath;  ///< absolute
  QString imageSha256;
  QSize imageSize;
  int inputSize = 224;               ///< square model input, pixels
  QSize grid;                        ///< patches across, down
  std::optional<QPoint> queryPatch;  ///< (column, row)
  QList<QPoint> extraQueryPatches;   ///< further queries (shift-click): the heatmap is their max

  // The similarity view.
  ColormapKind colormap = ColormapKind::Viridis;
  float scaleLow = -1.f, scaleHigh = 1.f;  ///< fixed cosine scale
  double opacity = 0.5;
  bool gridVisible = true;

  // The permutation view.
  double studentSteepness = 100.0;
  double teacherSteepness = 100.0;
  SortNetworkKind network = SortNetworkKind::Bitonic;
  SortRelaxation relaxation = SortRelaxation::Cauchy;

  // The feature-map view (mode: 0 PCA-RGB, 1 k-means, as FeatureMapMode).
  int featureMode = 0;
  std::array<int, 3> components{0, 1, 2};  ///< 0-based
  std::optional<float> backgroundThreshold;
  bool basisLocked = false;
  int clusters = 8;
  double featureOpacity = 0.8;
  PcaRgbBasis basis;  ///< empty when none was fitted

  // The export itself.
  QSize exportSize;  ///< pixel size of the PNGs written with it
};

/// The manifest as indented JSON (UTF-8).
QByteArray toJson(const ViewManifest& manifest);
/// Parses and validates a manifest; `source` names the file in messages. Throws neco::FormatError
/// naming the key and the reason (missing, wrong type, out of range, newer schema).
ViewManifest viewManifestFromJson(const QByteArray& json, const QString& source);

/// SHA-256 (lower-case hex) of a file, or of a Hugging Face folder: the hash of the sorted lines
/// "<file name> <sha256>" of its regular files. Throws neco::IoError when it cannot be read.
QString contentSha256(const QString& path);

/// Writes `data` to `path` atomically (QSaveFile: the old file or nothing on failure). Throws
/// neco::IoError naming the file and the reason.
void writeFileAtomically(const QString& path, const QByteArray& data);

}  // namespace neco::ui
