// The cross-image similarity tiles: hand-made features with a known best match and mutuality, then
// the demo model end to end (worker extraction, cache, an unreadable target, clicks, pixels).

#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/ImageIo.h"
#include "neco/core/Similarity.h"
#include "neco/ui/CrossImageView.h"
#include "neco/ui/PatchCanvas.h"

#include <QDir>
#include <QFile>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <iterator>

using neco::ui::CrossImageView;
using neco::ui::FeaturesPtr;

namespace {

constexpr int kWaitMs = 120000;
constexpr int kSide = 112;  // 8 x 8 patches of the demo ViT

// Row-major features from unnormalised rows (normalised here, as the extractor does).
FeaturesPtr features(int gridW, int gridH, std::vector<std::vector<float>> rows) {
  auto f = std::make_shared<neco::PatchFeatures>();
  f->gridW = gridW;
  f->gridH = gridH;
  f->dim = static_cast<int>(rows.front().size());
  for (auto& r : rows) {
    float n = 0.f;
    for (float v : r) n += v * v;
    for (float v : r) f->tokens.push_back(v / std::sqrt(n));
  }
  return f;
}

int argmax(const std::vector<float>& v) {
  return static_cast<int>(std::distance(v.begin(), std::max_element(v.begin(), v.end())));
}

QColor blend(QColor under, neco::PaletteColor over, double alpha) {
  auto mix = [alpha](int u, int o) { return static_cast<int>(std::lround(alpha * o + (1 - alpha) * u)); };
  return QColor(mix(under.red(), over.r), mix(under.green(), over.g), mix(under.blue(), over.b));
}

bool close(QColor a, QColor b, int tol = 3) {
  return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
         std::abs(a.blue() - b.blue()) <= tol;
}

// The canvas pixels just outside the four sides of patch `patch` that lie on the image (where
// PatchCanvas draws its selection box: black 3 px under white 1.5 px).
QList<QColor> boxEdges(neco::ui::PatchCanvas& canvas, QPoint patch) {
  const QImage shot = canvas.grab().toImage();
  const QRectF r = canvas.patchRect(patch);
  const QRect image = canvas.imageRect().toAlignedRect().adjusted(1, 1, -1, -1) & shot.rect();
  const QPointF c = r.center();
  QList<QColor> edges;
  for (QPointF p : {QPointF(c.x(), r.top() - 1), QPointF(c.x(), r.bottom() + 1), QPointF(r.left() - 1, c.y()),
                    QPointF(r.right() + 1, c.y())}) {
    const QPoint q(static_cast<int>(std::round(p.x())), static_cast<int>(std::round(p.y())));
    if (image.contains(q)) edges << shot.pixelColor(q);
  }
  return edges;
}

bool greyish(QColor c) {
  return std::abs(c.red() - c.green()) <= 8 && std::abs(c.red() - c.blue()) <= 8;
}

QImage halves(QColor left, QColor right) {
  QImage image(96, 80, QImage::Format_RGB888);
  QPainter p(&image);
  p.fillRect(0, 0, 48, 80, left);
  p.fillRect(48, 0, 48, 80, right);
  return image;
}

}  // namespace

class CrossImageViewTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handMadeFeaturesGiveTheKnownBestMatchAndMutuality() {
    // Query image 2 x 2: x, y, z and a patch between x and y.
    const FeaturesPtr query = features(2, 2, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.6f, 0.8f, 0}});
    // Target A's best match for x is (0.8, 0.6, 0), nearer to the query's 4th patch: not mutual.
    const FeaturesPtr a = features(3, 2, {{0, 0, 1}, {0, 1, 0}, {0.8f, 0.6f, 0}, {0, 1, 1}, {-1, 0, 0}, {0, 0.2f, 1}});
    // Target B holds x itself at (1, 1): mutual.
    const FeaturesPtr b = features(3, 2, {{0, 1, 0}, {0, 0, 1}, {0, 1, 1}, {0.2f, 1, 0}, {1, 0, 0}, {-1, 1, 0}});
    const QColor grey(90, 90, 90);
    QImage solid(120, 80, QImage::Format_RGB888);
    solid.fill(grey);

    CrossImageView view;
    view.resize(800, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTargets({QStringLiteral("/nowhere/a.png"), QStringLiteral("/nowhere/b.png")});
    QCOMPARE(view.targetCount(), 2);
    view.setTargetFeatures(QStringLiteral("/nowhere/a.png"), solid, a);
    view.setTargetFeatures(QStringLiteral("/nowhere/b.png"), solid, b);
    QVERIFY(!view.ready());  // no query yet
    QSignalSpy updated(&view, &CrossImageView::mapsUpdated);
    view.setQuery(query, QPoint(0, 0));
    QVERIFY(view.ready());
    QCOMPARE(updated.count(), 1);

    const FeaturesPtr targets[] = {a, b};
    for (int t = 0; t < 2; ++t) {
      const auto match = view.bestMatch(t);
      QVERIFY(match);
      const std::vector<float> map = neco::cosineSimilarityMap(*query, 0, *targets[t]);
      const int best = argmax(map);
      QCOMPARE(match->patch, QPoint(best % 3, best / 3));
      QCOMPARE(match->score, map[static_cast<std::size_t>(best)]);
      QCOMPARE(match->mutual, argmax(neco::cosineSimilarityMap(*targets[t], best, *query)) == 0);
    }
    QCOMPARE(view.bestMatch(0)->patch, QPoint(2, 0));
    QVERIFY(!view.bestMatch(0)->mutual);
    QCOMPARE(view.bestMatch(1)->patch, QPoint(1, 1));
    QVERIFY(view.bestMatch(1)->mutual);
    QVERIFY(view.tileCaption(1).contains(QStringLiteral("mutual")));
    QVERIFY(view.tileCaption(0).contains(QStringLiteral("a.png")));
    QVERIFY(!view.tileCaption(0).contains(QStringLiteral("mutual")));
    QCOMPARE(view.tileCanvas(0)->selectedPatch(), std::optional<QPoint>(QPoint(2, 0)));
    QCOMPARE(view.tileCanvas(1)->markedPatches(), QList<QPoint>{QPoint(1, 1)});  // the mutual dot
    QVERIFY(view.tileCanvas(0)->markedPatches().isEmpty());

    // Pixels: the best match's centre is the colour of its score blended over the image, boxed.
    for (int t = 0; t < 2; ++t) {
      neco::ui::PatchCanvas* canvas = view.tileCanvas(t);
      const QImage shot = canvas->grab().toImage();
      const QRectF r = canvas->patchRect(view.bestMatch(t)->patch);
      QVERIFY(!r.isEmpty());
      const QColor expected =
          blend(grey, neco::Colormap(neco::ColormapKind::Viridis).map(view.bestMatch(t)->score, -1, 1),
                canvas->overlayOpacity());
      const QColor got = shot.pixelColor(r.center().toPoint());
      QVERIFY2(close(got, expected), qPrintable(got.name() + " vs " + expected.name()));
      const QList<QColor> edges = boxEdges(*canvas, view.bestMatch(t)->patch);
      QVERIFY(!edges.isEmpty());
      for (const QColor& edge : edges) QVERIFY2(greyish(edge) && !close(edge, expected, 20), qPrintable(edge.name()));
    }

    // Colour map change recolours the tiles.
    view.setColormap(neco::ColormapKind::Turbo);
    {
      neco::ui::PatchCanvas* canvas = view.tileCanvas(1);
      const QColor got = canvas->grab().toImage().pixelColor(canvas->patchRect(QPoint(1, 1)).center().toPoint());
      QVERIFY(
          close(got, blend(grey, neco::Colormap(neco::ColormapKind::Turbo).map(1.f, -1, 1), canvas->overlayOpacity())));
    }

    // Mutual only: A keeps its map but loses its mark; B keeps both.
    view.setMutualOnly(true);
    QVERIFY(view.tileCanvas(0)->hasOverlay());
    {  // no box any more: the pixels around A's best match show the map (colours, not black/white)
      neco::ui::PatchCanvas* canvas = view.tileCanvas(0);
      const QList<QColor> edges = boxEdges(*canvas, QPoint(2, 0));
      QVERIFY(!edges.isEmpty());
      for (const QColor& edge : edges) QVERIFY2(!greyish(edge), qPrintable(edge.name()));
    }
    QVERIFY(!view.tileCanvas(0)->selectedPatch());
    QVERIFY(view.tileCaption(0).contains(QStringLiteral("no mutual match")));
    QCOMPARE(view.tileCanvas(1)->selectedPatch(), std::optional<QPoint>(QPoint(1, 1)));
    view.setMutualOnly(false);
    QCOMPARE(view.tileCanvas(0)->selectedPatch(), std::optional<QPoint>(QPoint(2, 0)));

    // Query patch y: best in A is (1, 0) = y itself, mutual.
    view.setQuery(query, QPoint(1, 0));
    QCOMPARE(view.bestMatch(0)->patch, QPoint(1, 0));
    QVERIFY(view.bestMatch(0)->mutual);

    // Clicking a tile's patch asks the window to open that image with the patch pinned.
    QSignalSpy activated(&view, &CrossImageView::targetActivated);
    neco::ui::PatchCanvas* canvas = view.tileCanvas(1);
    QTest::mouseClick(canvas, Qt::LeftButton, {}, canvas->patchRect(QPoint(2, 1)).center().toPoint());
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("/nowhere/b.png"));
    QCOMPARE(activated.at(0).at(1).toPoint(), QPoint(2, 1));
    {  // as the window will: new targets from inside the click (the clicked canvas must survive it)
      CrossImageView other;
      other.resize(400, 300);
      other.show();
      other.setTargets({QStringLiteral("/nowhere/b.png")});
      other.setTargetFeatures(QStringLiteral("/nowhere/b.png"), solid, b);
      other.setQuery(query, QPoint(0, 0));
      QSignalSpy reopened(&other, &CrossImageView::targetActivated);
      connect(&other, &CrossImageView::targetActivated, &other, [&other](const QString& path) {
        other.setTargets({path, QStringLiteral("/nowhere/a.png")});
      });
      neco::ui::PatchCanvas* first = other.tileCanvas(0);
      QTest::mouseClick(first, Qt::LeftButton, {}, first->patchRect(QPoint(0, 0)).center().toPoint());
      QCOMPARE(reopened.count(), 1);
      QCOMPARE(other.targetCount(), 2);
      QTest::qWait(20);  // the old tile goes on the next event loop turn
    }

    // A query of another feature dimension: the tiles say so, nothing throws.
    view.setQuery(features(1, 1, {{1, 0}}), QPoint(0, 0));
    QVERIFY(!view.bestMatch(0));
    QVERIFY(view.tileCaption(0).contains(QStringLiteral("no map")));
  }

  void demoModelExtractsOnceCachesAndNamesUnreadableTargets() {
    QTemporaryDir dir;
    const QString queryPath = dir.filePath(QStringLiteral("query.png"));
    const QString red = dir.filePath(QStringLiteral("red-blue.png"));
    const QString green = dir.filePath(QStringLiteral("green-white.png"));
    const QString broken = dir.filePath(QStringLiteral("broken.png"));
    QVERIFY(halves(Qt::red, Qt::green).save(queryPath));
    QVERIFY(halves(Qt::red, Qt::blue).save(red));
    QVERIFY(halves(Qt::green, Qt::white).save(green));
    QFile file(broken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("\x89PNG\r\n\x1a\n this is not a png at all");
    file.close();

    std::shared_ptr<const neco::FeatureExtractor> model = neco::FeatureExtractor::createDemo(0);
    const auto query =
        std::make_shared<const neco::PatchFeatures>(model->extract(neco::readImage(queryPath.toStdString()), kSide));
    CrossImageView view;
    view.resize(900, 600);
    view.show();
    view.setModel(model, kSide);
    QSignalSpy updated(&view, &CrossImageView::mapsUpdated);
    view.setQuery(query, QPoint(1, 4));
    view.setTargets({red, broken, green});
    QTRY_VERIFY_WITH_TIMEOUT(view.ready(), kWaitMs);
    QCOMPARE(view.extractionCount(), 2);  // the broken file never reaches the model
    QVERIFY(view.tileCaption(1).contains(QStringLiteral("broken.png")));
    QVERIFY(view.tileCaption(1).contains(QStringLiteral("cannot be shown")));
    QVERIFY(!view.bestMatch(1));
    QVERIFY(view.tileCanvas(1)->isHidden());  // no "open an image" placeholder in an error tile
    QVERIFY(!view.tileCanvas(0)->isHidden());
    QVERIFY(updated.count() >= 1);

    auto check = [&](QPoint queryPatch) {
      const int qi = queryPatch.y() * query->gridW + queryPatch.x();
      const QString paths[] = {red, QString(), green};
      for (int t : {0, 2}) {
        const neco::PatchFeatures target = model->extract(neco::readImage(paths[t].toStdString()), kSide);
        const std::vector<float> map = neco::cosineSimilarityMap(*query, qi, target);
        const int best = argmax(map);
        const auto match = view.bestMatch(t);
        QVERIFY(match);
        QCOMPARE(match->patch, QPoint(best % target.gridW, best / target.gridW));
        QVERIFY(std::abs(match->score - map[static_cast<std::size_t>(best)]) < 1e-5f);
        QCOMPARE(match->mutual, argmax(neco::cosineSimilarityMap(target, best, *query)) == qi);
        QCOMPARE(view.tileCanvas(t)->gridColumns(), target.gridW);
      }
    };
    check(QPoint(1, 4));
    if (const QString out = qEnvironmentVariable("NECO_TEST_OUTPUT_DIR"); !out.isEmpty() && QDir().mkpath(out))
      view.grab().save(QDir(out).filePath(QStringLiteral("CrossImageView.png")));  // for review, never compared

    // A new query patch: instant, from the cache.
    updated.clear();
    view.setQuery(query, QPoint(6, 2));
    QCOMPARE(updated.count(), 1);
    QVERIFY(view.ready());
    check(QPoint(6, 2));
    // Same targets again: nothing re-extracted.
    view.setTargets({red, broken, green});
    QTRY_VERIFY_WITH_TIMEOUT(view.ready(), kWaitMs);
    QCOMPARE(view.extractionCount(), 2);

    // Another model clears the cache: both readable targets are extracted again.
    view.setModel(neco::FeatureExtractor::createDemo(1), kSide);
    QVERIFY(!view.ready());
    QTRY_VERIFY_WITH_TIMEOUT(view.ready(), kWaitMs);
    QCOMPARE(view.extractionCount(), 4);
  }

  void newestTargetListWinsAndAtMostEightAreShown() {
    QTemporaryDir dir;
    QStringList paths;
    for (int i = 0; i < 10; ++i) {
      paths << dir.filePath(QStringLiteral("img%1.png").arg(i));
      QVERIFY(halves(QColor(20 * i, 0, 0), Qt::white).save(paths.back()));
    }
    std::shared_ptr<const neco::FeatureExtractor> model = neco::FeatureExtractor::createDemo(0);
    const auto query =
        std::make_shared<const neco::PatchFeatures>(model->extract(neco::readImage(paths[0].toStdString()), kSide));
    CrossImageView view;
    view.setModel(model, kSide);
    view.setQuery(query, QPoint(0, 0));
    view.setTargets(paths);
    QCOMPARE(view.targetCount(), CrossImageView::kMaxTargets);
    view.setTargets({paths[9]});  // supersedes the first list
    QCOMPARE(view.targetCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(view.ready(), kWaitMs);
    QVERIFY(view.bestMatch(0));
    QVERIFY2(view.extractionCount() <= 3,
             qPrintable(QString::number(view.extractionCount())));  // the first list stopped early
  }
};

QTEST_MAIN(CrossImageViewTest)
#include "CrossImageViewTest.moc"
