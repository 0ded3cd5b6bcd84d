#include "neco/ui/ViewManifest.h"

#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>

#include <cmath>
#include <string>

namespace neco::ui {
namespace {

const char* sourceName(ViewModelSource s) {
  switch (s) {
    case ViewModelSource::Demo:
      return "demo";
    case ViewModelSource::Checkpoint:
      return "checkpoint";
    case ViewModelSource::Training:
      return "training";
  }
  return "demo";
}

QJsonArray floats(const std::vector<float>& values) {
  QJsonArray a;
  for (float v : values) a.append(double(v));
  return a;
}

QJsonValue optionalPoint(const std::optional<QPoint>& p) {
  if (!p) return QJsonValue::Null;
  return QJsonObject{{QStringLiteral("column"), p->x()}, {QStringLiteral("row"), p->y()}};
}

QJsonObject sizeObject(QSize s) {
  return {{QStringLiteral("width"), s.width()}, {QStringLiteral("height"), s.height()}};
}

// Reads keys of one object with the dotted path of the key in every message.
class Reader {
 public:
  Reader(const QString& source, const QJsonObject& object, QString prefix)
      : source_(source), object_(object), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const QString& key, const QString& reason) const {
    throw FormatError(source_.toStdString(), QStringLiteral("key '%1': %2").arg(path(key), reason).toStdString());
  }
  QString path(const QString& key) const { return prefix_.isEmpty() ? key : prefix_ + QLatin1Char('.') + key; }
  bool has(const QString& key) const { return object_.contains(key) && !object_.value(key).isNull(); }
  QJsonValue value(const QString& key) const {
    if (!object_.contains(key)) fail(key, QStringLiteral("missing"));
    return object_.value(key);
  }
  Reader object(const QString& key) const {
    const QJsonValue v = value(key);
    if (!v.isObject()) fail(key, QStringLiteral("expected an object"));
    return Reader(source_, v.toObject(), path(key));
  }
  QString string(const QString& key) const {
    const QJsonValue v = value(key);
    if (!v.isString()) fail(key, QStringLiteral("expected a string"));
    return v.toString();
  }
  bool boolean(const QString& key) const {
    const QJsonValue v = value(key);
    if (!v.isBool()) fail(key, QStringLiteral("expected true or false"));
    return v.toBool();
  }
  double number(const QString& key, double lo, double hi) const {
    const QJsonValue v = value(key);
    if (!v.isDouble() || !std::isfinite(v.toDouble())) fail(key, QStringLiteral("expected a number"));
    const double d = v.toDouble();
    if (d < lo || d > hi) fail(key, QStringLiteral("%1 is outside [%2, %3]").arg(d).arg(lo).arg(hi));
    return d;
  }
  qint64 integer(const QString& key, qint64 lo, qint64 hi) const {
    const double d = number(key, double(lo), double(hi));
    if (d != std::floor(d)) fail(key, QStringLiteral("expected an integer, got %1").arg(d));
    return static_cast<qint64>(d);
  }
  QString sha256(const QString& key, bool allowEmpty) const {
    const QString s = string(key);
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    if (allowEmpty && s.isEmpty()) return s;
    if (!hex.match(s).hasMatch()) fail(key, QStringLiteral("expected 64 lower-case hex digits, got '%1'").arg(s));
    return s;
  }
  QSize size(const QString& key) const {
    const Reader r = object(key);
    return {int(r.integer(QStringLiteral("width"), 0, 1 << 20)), int(r.integer(QStringLiteral("height"), 0, 1 << 20))};
  }
  std::vector<float> floats(const QString& key, std::size_t count) const {
    const QJsonValue v = value(key);
    if (!v.isArray()) fail(key, QStringLiteral("expected an array of numbers"));
    const QJsonArray a = v.toArray();
    if (std::size_t(a.size()) != count)
      fail(key, QStringLiteral("expected %1 numbers, got %2").arg(count).arg(a.size()));
    std::vector<float> out;
    out.reserve(count);
    for (const QJsonValue& x : a) {
      if (!x.isDouble() || !std::isfinite(x.toDouble())) fail(key, QStringLiteral("expected finite numbers only"));
      out.push_back(float(x.toDouble()));
    }
    return out;
  }
  template <class Parse>
  auto named(const QString& key, Parse parse) const {
    const QString s = string(key);
    try {
      return parse(s.toStdString());
    } catch (const std::exception& e) {
      fail(key, QString::fromStdString(e.what()));
    }
  }

 private:
  const QString& source_;
  QJsonObject object_;
  QString prefix_;
};

QJsonObject modelJson(const ViewManifest& m) {
  QJsonObject model{
      {QStringLiteral("source"), QString::fromLatin1(sourceName(m.source))},
      {QStringLiteral("checkpointPath"), m.checkpointPath},
      {QStringLiteral("checkpointSha256"), m.checkpointSha256},
      {QStringLiteral("trainingStep"), m.trainingStep ? QJsonValue(double(*m.trainingStep)) : QJsonValue()},
      {QStringLiteral("weights"), QString::fromStdString(m.model.weights)},
      {QStringLiteral("name"), QString::fromStdString(m.model.name)},
      {QStringLiteral("patchSize"), m.model.patchSize},
      {QStringLiteral("embedDim"), m.model.embedDim},
      {QStringLiteral("depth"), m.model.depth},
      {QStringLiteral("numHeads"), m.model.numHeads},
      {QStringLiteral("numRegisters"), m.model.numRegisters},
      {QStringLiteral("parameterCount"), double(m.model.parameterCount)},
      {QStringLiteral("layer"), m.layer},
      {QStringLiteral("layerIndex"), m.layerIndex}};
  return model;
}

QJsonObject featureJson(const ViewManifest& m) {
  QJsonObject basis{{QStringLiteral("dim"), m.basis.dim},
                    {QStringLiteral("count"), m.basis.count()},
                    {QStringLiteral("mean"), floats(m.basis.mean)},
                    {QStringLiteral("components"), floats(m.basis.components)},
                    {QStringLiteral("variances"), floats(m.basis.variances)},
                    {QStringLiteral("low"), floats(m.basis.low)},
                    {QStringLiteral("high"), floats(m.basis.high)}};
  return {{QStringLiteral("mode"), m.featureMode == 0 ? QStringLiteral("pca-rgb") : QStringLiteral("k-means")},
          {QStringLiteral("components"), QJsonArray{m.components[0], m.components[1], m.components[2]}},
          {QStringLiteral("backgroundThreshold"),
           m.backgroundThreshold ? QJsonValue(double(*m.backgroundThreshold)) : QJsonValue()},
          {QStringLiteral("basisLocked"), m.basisLocked},
          {QStringLiteral("clusters"), m.clusters},
          {QStringLiteral("opacity"), m.featureOpacity},
          {QStringLiteral("basis"), m.basis.empty() ? QJsonValue() : QJsonValue(basis)}};
}

void readModel(const Reader& r, ViewManifest& m) {
  const QString source = r.string(QStringLiteral("source"));
  if (source == QLatin1String("demo"))
    m.source = ViewModelSource::Demo;
  else if (source == QLatin1String("checkpoint"))
    m.source = ViewModelSource::Checkpoint;
  else if (source == QLatin1String("training"))
    m.source = ViewModelSource::Training;
  else
    r.fail(QStringLiteral("source"), QStringLiteral("'%1' is not demo, checkpoint or training").arg(source));
  m.checkpointPath = r.string(QStringLiteral("checkpointPath"));
  const bool file = m.source == ViewModelSource::Checkpoint;
  m.checkpointSha256 = r.sha256(QStringLiteral("checkpointSha256"), !file);
  if (file && m.checkpointPath.isEmpty())
    r.fail(QStringLiteral("checkpointPath"), QStringLiteral("empty for a checkpoint"));
  if (r.has(QStringLiteral("trainingStep")))
    m.trainingStep = r.integer(QStringLiteral("trainingStep"), 0, qint64(1) << 50);
  m.model.weights = r.string(QStringLiteral("weights")).toStdString();
  m.model.name = r.string(QStringLiteral("name")).toStdString();
  m.model.patchSize = int(r.integer(QStringLiteral("patchSize"), 1, 1024));
  m.model.embedDim = int(r.integer(QStringLiteral("embedDim"), 1, 1 << 20));
  m.model.depth = int(r.integer(QStringLiteral("depth"), 1, 1024));
  m.model.numHeads = int(r.integer(QStringLiteral("numHeads"), 1, 1024));
  m.model.numRegisters = int(r.integer(QStringLiteral("numRegisters"), 0, 1024));
  m.model.parameterCount = r.integer(QStringLiteral("parameterCount"), 0, qint64(1) << 50);
  m.layer = r.string(QStringLiteral("layer"));
  if (m.layer != QLatin1String("final-norm"))
    r.fail(QStringLiteral("layer"), QStringLiteral("'%1': only final-norm is supported").arg(m.layer));
  m.layerIndex = int(r.integer(QStringLiteral("layerIndex"), 1, 1024));
}

void readFeatures(const Reader& r, ViewManifest& m) {
  const QString mode = r.string(QStringLiteral("mode"));
  if (mode == QLatin1String("pca-rgb"))
    m.featureMode = 0;
  else if (mode == QLatin1String("k-means"))
    m.featureMode = 1;
  else
    r.fail(QStringLiteral("mode"), QStringLiteral("'%1' is not pca-rgb or k-means").arg(mode));
  const QJsonValue c = r.value(QStringLiteral("components"));
  if (!c.isArray() || c.toArray().size() != 3)
    r.fail(QStringLiteral("components"), QStringLiteral("expected 3 integers"));
  for (int i = 0; i < 3; ++i) {
    const QJsonValue v = c.toArray().at(i);
    if (!v.isDouble() || v.toDouble() != std::floor(v.toDouble()) || v.toDouble() < 0 || v.toDouble() > 1023)
      r.fail(QStringLiteral("components"), QStringLiteral("expected 3 integers in [0, 1023]"));
    m.components[std::size_t(i)] = v.toInt();
  }
  if (r.has(QStringLiteral("backgroundThreshold")))
    m.backgroundThreshold = float(r.number(QStringLiteral("backgroundThreshold"), 0.0, 1.0));
  m.basisLocked = r.boolean(QStringLiteral("basisLocked"));
  m.clusters = int(r.integer(QStringLiteral("clusters"), 1, 4096));
  m.featureOpacity = r.number(QStringLiteral("opacity"), 0.0, 1.0);
  if (!r.has(QStringLiteral("basis"))) return;
  const Reader b = r.object(QStringLiteral("basis"));
  const int dim = int(b.integer(QStringLiteral("dim"), 1, 1 << 20));
  const int count = int(b.integer(QStringLiteral("count"), 3, 1024));
  m.basis.dim = dim;
  m.basis.mean = b.floats(QStringLiteral("mean"), std::size_t(dim));
  m.basis.components = b.floats(QStringLiteral("components"), std::size_t(count) * std::size_t(dim));
  m.basis.variances = b.floats(QStringLiteral("variances"), std::size_t(count));
  m.basis.low = b.floats(QStringLiteral("low"), std::size_t(count));
  m.basis.high = b.floats(QStringLiteral("high"), std::size_t(count));
}

}  // namespace

QByteArray toJson(const ViewManifest& m) {
  const QJsonObject root{
      {QStringLiteral("schemaVersion"), m.schemaVersion},
      {QStringLiteral("app"), QStringLiteral("NeCo Studio")},
      {QStringLiteral("appVersion"), m.appVersion},
      {QStringLiteral("created"), m.created.toUTC().toString(Qt::ISODateWithMs)},
      {QStringLiteral("model"), modelJson(m)},
      {QStringLiteral("image"), QJsonObject{{QStringLiteral("path"), m.imagePath},
                                            {QStringLiteral("sha256"), m.imageSha256},
                                            {QStringLiteral("size"), sizeObject(m.imageSize)}}},
      {QStringLiteral("inputSize"), m.inputSize},
      {QStringLiteral("grid"),
       QJsonObject{{QStringLiteral("columns"), m.grid.width()}, {QStringLiteral("rows"), m.grid.height()}}},
      {QStringLiteral("queryPatch"), optionalPoint(m.queryPatch)},
      {QStringLiteral("extraQueryPatches"),
       [&] {
         QJsonArray a;
         for (QPoint p : m.extraQueryPatches) a.append(optionalPoint(p));
         return a;
       }()},
      {QStringLiteral("similarity"),
       QJsonObject{{QStringLiteral("colormap"), QString::fromStdString(colormapName(m.colormap))},
                   {QStringLiteral("scale"), QJsonArray{double(m.scaleLow), double(m.scaleHigh)}},
                   {QStringLiteral("opacity"), m.opacity},
                   {QStringLiteral("grid"), m.gridVisible}}},
      {QStringLiteral("permutation"),
       QJsonObject{{QStringLiteral("studentSteepness"), m.studentSteepness},
                   {QStringLiteral("teacherSteepness"), m.teacherSteepness},
                   {QStringLiteral("network"), QString::fromLatin1(sortNetworkName(m.network))},
                   {QStringLiteral("relaxation"), QString::fromLatin1(sortRelaxationName(m.relaxation))}}},
      {QStringLiteral("featureMap"), featureJson(m)},
      {QStringLiteral("export"), QJsonObject{{QStringLiteral("size"), sizeObject(m.exportSize)}}}};
  return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

ViewManifest viewManifestFromJson(const QByteArray& json, const QString& source) {
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
  if (error.error != QJsonParseError::NoError)
    throw FormatError(
        source.toStdString(),
        QStringLiteral("not JSON at offset %1: %2").arg(error.offset).arg(error.errorString()).toStdString());
  if (!doc.isObject()) throw FormatError(source.toStdString(), "expected a JSON object");
  const Reader r(source, doc.object(), QString());
  ViewManifest m;
  m.schemaVersion = int(r.integer(QStringLiteral("schemaVersion"), 1, 1 << 20));
  if (m.schemaVersion > ViewManifest::kSchemaVersion)
    r.fail(QStringLiteral("schemaVersion"), QStringLiteral("%1 is newer than this studio reads (%2)")
                                                .arg(m.schemaVersion)
                                                .arg(ViewManifest::kSchemaVersion));
  m.appVersion = r.string(QStringLiteral("appVersion"));
  m.created = QDateTime::fromString(r.string(QStringLiteral("created")), Qt::ISODateWithMs);
  if (!m.created.isValid()) r.fail(QStringLiteral("created"), QStringLiteral("expected an ISO 8601 time"));
  readModel(r.object(QStringLiteral("model")), m);
  const Reader image = r.object(QStringLiteral("image"));
  m.imagePath = image.string(QStringLiteral("path"));
  if (m.imagePath.isEmpty()) image.fail(QStringLiteral("path"), QStringLiteral("empty"));
  m.imageSha256 = image.sha256(QStringLiteral("sha256"), false);
  m.imageSize = image.size(QStringLiteral("size"));
  m.inputSize = int(r.integer(QStringLiteral("inputSize"), 14, 4096));
  const Reader grid = r.object(QStringLiteral("grid"));
  m.grid =
      QSize(int(grid.integer(QStringLiteral("columns"), 0, 4096)), int(grid.integer(QStringLiteral("rows"), 0, 4096)));
  if (r.has(QStringLiteral("queryPatch"))) {
    const Reader q = r.object(QStringLiteral("queryPatch"));
    m.queryPatch =
        QPoint(int(q.integer(QStringLiteral("column"), 0, 4095)), int(q.integer(QStringLiteral("row"), 0, 4095)));
  }
  if (r.has(QStringLiteral("extraQueryPatches"))) {  // absent in the first manifests: none
    const QJsonValue extra = r.value(QStringLiteral("extraQueryPatches"));
    if (!extra.isArray()) r.fail(QStringLiteral("extraQueryPatches"), QStringLiteral("expected an array"));
    for (const QJsonValue& v : extra.toArray()) {
      if (!v.isObject()) r.fail(QStringLiteral("extraQueryPatches"), QStringLiteral("expected {column, row} objects"));
      const Reader q(source, v.toObject(), QStringLiteral("extraQueryPatches[]"));
      m.extraQueryPatches.append(
          QPoint(int(q.integer(QStringLiteral("column"), 0, 4095)), int(q.integer(QStringLiteral("row"), 0, 4095))));
    }
  }
  const Reader sim = r.object(QStringLiteral("similarity"));
  m.colormap = sim.named(QStringLiteral("colormap"), [](const std::string& s) { return parseColormap(s); });
  const QJsonValue scale = sim.value(QStringLiteral("scale"));
  if (scale.toArray() != QJsonArray{-1.0, 1.0})
    sim.fail(QStringLiteral("scale"), QStringLiteral("expected [-1, 1] (the fixed cosine scale)"));
  m.opacity = sim.number(QStringLiteral("opacity"), 0.0, 1.0);
  m.gridVisible = sim.boolean(QStringLiteral("grid"));
  const Reader perm = r.object(QStringLiteral("permutation"));
  m.studentSteepness = perm.number(QStringLiteral("studentSteepness"), 1.0, 1000.0);
  m.teacherSteepness = perm.number(QStringLiteral("teacherSteepness"), 1.0, 1000.0);
  m.network = perm.named(QStringLiteral("network"), [](const std::string& s) { return parseSortNetwork(s); });
  m.relaxation = perm.named(QStringLiteral("relaxation"), [](const std::string& s) { return parseSortRelaxation(s); });
  readFeatures(r.object(QStringLiteral("featureMap")), m);
  m.exportSize = r.object(QStringLiteral("export")).size(QStringLiteral("size"));
  return m;
}

QString contentSha256(const QString& path) {
  const QFileInfo info(path);
  if (!info.isDir()) return QString::fromStdString(fileSha256(path.toStdString()));
  QStringList lines;
  const QFileInfoList files = QDir(path).entryInfoList(QDir::Files, QDir::Name);
  for (const QFileInfo& f : files)
    lines << f.fileName() + QLatin1Char(' ') + QString::fromStdString(fileSha256(f.filePath().toStdString()));
  return QString::fromLatin1(
      QCryptographicHash::hash(lines.join(QLatin1Char('\n')).toUtf8(), QCryptographicHash::Sha256).toHex());
}

void writeFileAtomically(const QString& path, const QByteArray& data) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) throw IoError(path.toStdString(), file.errorString().toStdString());
  if (file.write(data) != data.size()) {
    const std::string why = file.errorString().toStdString();
    file.cancelWriting();
    throw IoError(path.toStdString(), why);
  }
  if (!file.commit()) throw IoError(path.toStdString(), file.errorString().toStdString());
}

}  // namespace neco::ui
