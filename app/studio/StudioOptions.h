#pragma once
// Command line of neco-studio (parsed with QCommandLineParser).

#include <QPoint>
#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

namespace neco::studio {

struct StudioOptions {
  QString image;                  ///< open this image instead of the demo
  QString checkpoint;             ///< load this checkpoint (file or Hugging Face folder) at startup
  QString demoRoot;               ///< where the demo dataset lives / is generated
  QString screenshot;             ///< render, save this PNG and exit
  std::optional<QPoint> patch;    ///< query patch (column,row) to select once features are ready
  int inputSize = 224;
  double opacity = 0.6;
  QString colormap = QStringLiteral("viridis");
  double studentSteepness = 100.0;  ///< permutation view, 1..1000
  double teacherSteepness = 100.0;
  QString network = QStringLiteral("bitonic");
  QString logLevel = QStringLiteral("info");
  int threads = 0;
  QSize windowSize{1280, 800};
  int trainSteps = 0;             ///< train the built-in demo for this many steps at startup (0: no)
  bool benchUi = false;           ///< measure the speed goals on the real window, print JSON and exit
  bool benchQuick = false;        ///< --bench-ui with fewer clicks and shorter probes (tests)
  QString benchOut;               ///< --bench-ui also writes its JSON here
  QStringList show;               ///< docks to raise (knownDockNames()), "shortcuts" for the ? sheet
  bool patchBank = false;         ///< build the patch bank of the listed images before the query
  double zoom = 1.0;              ///< canvas zoom about the query patch (1 = fitted)
  QStringList compare;            ///< checkpoints for the Before / after dock (the model on screen is the base)
  QStringList given;              ///< the options given on the command line (they win over the saved session)
};

/// --show's names and the dock (object name) each raises.
const QList<QPair<QString, QString>>& knownDockNames();

/// Parses argv; on a bad value prints the reason and returns std::nullopt (the caller exits 2).
/// --help and --version print and exit inside.
std::optional<StudioOptions> parseStudioOptions(const QStringList& arguments);

}  // namespace neco::studio
