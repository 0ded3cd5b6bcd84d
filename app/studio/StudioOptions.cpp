#include "StudioOptions.h"

#include "neco/core/Colormap.h"
#include "neco/core/Log.h"
#include "neco/core/Paths.h"
#include "neco/core/SoftSort.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QCoreApplication>

#include <cstdio>
#include <cstdlib>

namespace neco::studio {
namespace {

void fail(const QString& message) { std::fprintf(stderr, "neco-studio: %s\n", qPrintable(message)); }

bool parsePoint(const QString& text, QPoint& out) {
  const QStringList parts = text.split(QLatin1Char(','));
  bool okX = false, okY = false;
  if (parts.size() == 2) out = QPoint(parts[0].toInt(&okX), parts[1].toInt(&okY));
  return okX && okY && out.x() >= 0 && out.y() >= 0;
}

bool parseSize(const QString& text, QSize& out) {
  const QStringList parts = text.split(QLatin1Char('x'));
  bool okW = false, okH = false;
  if (parts.size() == 2) out = QSize(parts[0].toInt(&okW), parts[1].toInt(&okH));
  return okW && okH && out.width() >= 320 && out.height() >= 240 && out.width() <= 8192 && out.height() <= 8192;
}

}  // namespace

std::optional<StudioOptions> parseStudioOptions(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "NeCo Studio: click a patch of an image and see how a ViT's patch features relate.\n"
      "Without --image it opens the built-in demo dataset (generated on first run, no network)."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption image(QStringLiteral("image"), QStringLiteral("Open this image."), QStringLiteral("file"));
  const QCommandLineOption checkpoint(
      QStringLiteral("checkpoint"),
      QStringLiteral("Load this checkpoint (.pth .pt .ckpt .bin .safetensors, or a Hugging Face model folder) at "
                     "startup, with the options of File > Checkpoint Options."),
      QStringLiteral("path"));
  const QCommandLineOption demoRoot(QStringLiteral("demo-dir"),
                                    QStringLiteral("Demo dataset folder (default: %1).")
                                        .arg(QString::fromStdString(defaultDemoDatasetDirectory().string())),
                                    QStringLiteral("dir"));
  const QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("Render the window (with an error dialog over it, if any) to this PNG once the heatmap is "
                     "shown, on the --checkpoint model when it loads, then exit."),
      QStringLiteral("file.png"));
  const QCommandLineOption patch(QStringLiteral("patch"), QStringLiteral("Select query patch COL,ROW."),
                                 QStringLiteral("col,row"));
  const QCommandLineOption inputSize(QStringLiteral("input-size"), QStringLiteral("Model input side in pixels (default 224)."),
                                     QStringLiteral("px"), QStringLiteral("224"));
  const QCommandLineOption opacity(QStringLiteral("opacity"), QStringLiteral("Heatmap opacity 0..1 (default 0.6)."),
                                   QStringLiteral("value"), QStringLiteral("0.6"));
  const QCommandLineOption colormap(QStringLiteral("colormap"), QStringLiteral("viridis, turbo, inferno or jet."),
                                    QStringLiteral("name"), QStringLiteral("viridis"));
  const QCommandLineOption steepness(
      QStringLiteral("steepness"),
      QStringLiteral("Permutation view steepness STUDENT[,TEACHER], each 1..1000 (default 100,100)."),
      QStringLiteral("s[,t]"), QStringLiteral("100"));
  const QCommandLineOption network(QStringLiteral("network"), QStringLiteral("Sorting network: bitonic or odd_even."),
                                   QStringLiteral("name"), QStringLiteral("bitonic"));
  const QCommandLineOption logLevel(QStringLiteral("log-level"), QStringLiteral("trace, debug, info, warn, error, critical, off."),
                                    QStringLiteral("level"), QStringLiteral("info"));
  const QCommandLineOption threads(QStringLiteral("threads"), QStringLiteral("Compute threads (0 = all cores)."),
                                   QStringLiteral("n"), QStringLiteral("0"));
  const QCommandLineOption windowSize(QStringLiteral("window-size"), QStringLiteral("Initial window size WxH."),
                                      QStringLiteral("WxH"), QStringLiteral("1280x800"));
  const QCommandLineOption trainSteps(
      QStringLiteral("train-steps"),
      QStringLiteral("Train the built-in demo for N steps at startup (Train > Train on the Demo, in a new run folder "
                     "under the state directory); with --screenshot, shoot once the run has finished and the views "
                     "show its weights."),
      QStringLiteral("n"), QStringLiteral("0"));
  const QCommandLineOption benchUi(
      QStringLiteral("bench-ui"),
      QStringLiteral("Measure the speed goals on the real window (cold start to first frame; click to painted heatmap "
                     "at 518 px on cached features; event-loop latency while the demo trains), print them as JSON "
                     "and exit (0 whether or not the goals are met)."));
  const QCommandLineOption benchQuick(QStringLiteral("bench-quick"),
                                      QStringLiteral("With --bench-ui: fewer clicks and shorter probes."));
  const QCommandLineOption benchOut(QStringLiteral("bench-out"),
                                    QStringLiteral("With --bench-ui: also write the JSON to this file."),
                                    QStringLiteral("file.json"));
  QStringList dockNames;
  for (const auto& [name, object] : knownDockNames()) dockNames << name;
  const QCommandLineOption show(
      QStringLiteral("show"),
      QStringLiteral("Raise these views (comma-separated: %1, shortcuts).").arg(dockNames.join(QStringLiteral(", "))),
      QStringLiteral("views"));
  const QCommandLineOption patchBank(
      QStringLiteral("patch-bank"),
      QStringLiteral("Build the patch bank of the listed images before selecting --patch (Near / far ranks across the "
                     "dataset)."));
  const QCommandLineOption zoom(QStringLiteral("zoom"), QStringLiteral("Canvas zoom about the --patch, 1..64."),
                                QStringLiteral("z"), QStringLiteral("1"));
  const QCommandLineOption compare(
      QStringLiteral("compare"),
      QStringLiteral("Compare the pinned query under this checkpoint in the Before / after dock, against the model on "
                     "screen (repeat for more)."),
      QStringLiteral("checkpoint"));
  parser.addOptions({image, checkpoint, demoRoot, screenshot, patch, inputSize, opacity, colormap, steepness, network, logLevel,
                     threads, windowSize, trainSteps, benchUi, benchQuick, benchOut, show, patchBank, zoom, compare});
  if (!parser.parse(arguments)) {
    fail(parser.errorText());
    return std::nullopt;
  }
  // Printed by hand: QCommandLineParser::showHelp() needs a QCoreApplication, and this runs before one.
  if (parser.isSet(QStringLiteral("help"))) {
    std::printf("%s", qPrintable(parser.helpText().replace(QStringLiteral("<executable_name>"), QStringLiteral("neco-studio"))));
    std::exit(0);
  }
  if (parser.isSet(QStringLiteral("version"))) {
    std::printf("neco-studio %s\n", qPrintable(QCoreApplication::applicationVersion()));
    std::exit(0);
  }
  if (!parser.positionalArguments().isEmpty()) {
    fail(QStringLiteral("unexpected argument '%1' (use --image FILE)").arg(parser.positionalArguments().front()));
    return std::nullopt;
  }

  StudioOptions o;
  o.given = parser.optionNames();
  o.image = parser.value(image);
  o.checkpoint = parser.value(checkpoint);
  o.demoRoot = parser.isSet(demoRoot) ? parser.value(demoRoot)
                                      : QString::fromStdString(defaultDemoDatasetDirectory().string());
  o.screenshot = parser.value(screenshot);
  bool ok = true;
  if (parser.isSet(patch)) {
    QPoint p;
    if (!parsePoint(parser.value(patch), p)) {
      fail(QStringLiteral("--patch expects COL,ROW, got '%1'").arg(parser.value(patch)));
      return std::nullopt;
    }
    o.patch = p;
  }
  o.inputSize = parser.value(inputSize).toInt(&ok);
  if (!ok || o.inputSize < 14 || o.inputSize > 2048) {
    fail(QStringLiteral("--input-size must be 14..2048, got '%1'").arg(parser.value(inputSize)));
    return std::nullopt;
  }
  o.opacity = parser.value(opacity).toDouble(&ok);
  if (!ok || o.opacity < 0.0 || o.opacity > 1.0) {
    fail(QStringLiteral("--opacity must be within 0..1, got '%1'").arg(parser.value(opacity)));
    return std::nullopt;
  }
  o.colormap = parser.value(colormap);
  o.logLevel = parser.value(logLevel);
  const QStringList steepnessValues = parser.value(steepness).split(QLatin1Char(','));
  bool teacherOk = true;
  o.studentSteepness = steepnessValues.front().toDouble(&ok);
  o.teacherSteepness = steepnessValues.size() > 1 ? steepnessValues[1].toDouble(&teacherOk) : o.studentSteepness;
  if (!ok || !teacherOk || steepnessValues.size() > 2 || o.studentSteepness < 1.0 || o.studentSteepness > 1000.0 ||
      o.teacherSteepness < 1.0 || o.teacherSteepness > 1000.0) {
    fail(QStringLiteral("--steepness expects STUDENT[,TEACHER] within 1..1000, got '%1'").arg(parser.value(steepness)));
    return std::nullopt;
  }
  o.network = parser.value(network);
  try {
    parseSortNetwork(o.network.toStdString());
    parseColormap(o.colormap.toStdString());
    parseLogLevel(o.logLevel.toStdString());
  } catch (const std::exception& e) {
    fail(QString::fromStdString(e.what()));
    return std::nullopt;
  }
  o.threads = parser.value(threads).toInt(&ok);
  if (!ok || o.threads < 0) {
    fail(QStringLiteral("--threads must be >= 0, got '%1'").arg(parser.value(threads)));
    return std::nullopt;
  }
  o.trainSteps = parser.value(trainSteps).toInt(&ok);
  if (!ok || o.trainSteps < 0 || o.trainSteps > 1000000) {
    fail(QStringLiteral("--train-steps must be within 0..1000000, got '%1'").arg(parser.value(trainSteps)));
    return std::nullopt;
  }
  o.benchUi = parser.isSet(benchUi);
  o.benchQuick = parser.isSet(benchQuick);
  o.benchOut = parser.value(benchOut);
  if (!o.benchUi && (o.benchQuick || !o.benchOut.isEmpty())) {
    fail(QStringLiteral("--bench-quick and --bench-out go with --bench-ui"));
    return std::nullopt;
  }
  if (o.benchUi && (!o.screenshot.isEmpty() || o.trainSteps > 0 || !o.image.isEmpty() || !o.checkpoint.isEmpty())) {
    fail(QStringLiteral("--bench-ui runs on the demo alone: not with --screenshot, --train-steps, --image or --checkpoint"));
    return std::nullopt;
  }
  for (const QString& name : parser.value(show).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    if (!dockNames.contains(name) && name != QStringLiteral("shortcuts")) {
      fail(QStringLiteral("--show: unknown view '%1' (known: %2, shortcuts)").arg(name, dockNames.join(QStringLiteral(", "))));
      return std::nullopt;
    }
    o.show << name;
  }
  o.patchBank = parser.isSet(patchBank);
  o.compare = parser.values(compare);
  for (const QString& path : o.compare) {
    if (!QFileInfo::exists(path)) {
      fail(QStringLiteral("--compare: %1 does not exist").arg(path));
      return std::nullopt;
    }
  }
  o.zoom = parser.value(zoom).toDouble(&ok);
  if (!ok || o.zoom < 1.0 || o.zoom > 64.0) {
    fail(QStringLiteral("--zoom must be within 1..64, got '%1'").arg(parser.value(zoom)));
    return std::nullopt;
  }
  if (!parseSize(parser.value(windowSize), o.windowSize)) {
    fail(QStringLiteral("--window-size expects WxH within 320x240..8192x8192, got '%1'").arg(parser.value(windowSize)));
    return std::nullopt;
  }
  return o;
}

const QList<QPair<QString, QString>>& knownDockNames() {
  static const QList<QPair<QString, QString>> names{
      {QStringLiteral("dataset"), QStringLiteral("datasetDock")},
      {QStringLiteral("permutation"), QStringLiteral("permutationDock")},
      {QStringLiteral("feature-maps"), QStringLiteral("featureMapsDock")},
      {QStringLiteral("near-far"), QStringLiteral("nearFarDock")},
      {QStringLiteral("cross-image"), QStringLiteral("crossImageDock")},
      {QStringLiteral("compare"), QStringLiteral("compareDock")},
      {QStringLiteral("embedding"), QStringLiteral("embeddingDock")},
      {QStringLiteral("permutation-3d"), QStringLiteral("permutationSurfaceDock")},
      {QStringLiteral("log"), QStringLiteral("logDock")},
      {QStringLiteral("xray"), QStringLiteral("trainingXRayDock")},
      {QStringLiteral("quality"), QStringLiteral("segmentationQualityDock")},
      {QStringLiteral("training"), QStringLiteral("trainingDock")},
  };
  return names;
}

}  // namespace neco::studio
