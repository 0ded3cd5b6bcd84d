// The near/far ordering strip on synthetic features whose ranking is known: the shown order and
// scores, the real pixels of the thumbnails (the source patch's colour, context dimmed around it),
// clicks, k, the scope selector (bank disabled until a bank is set), the bank scope reading another
// image from disk; and the bank builder on PNGs in a temp dir with a corrupt one (reported, skipped),
// superseded and cancelled builds.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/PatchBank.h"
#include "neco/ui/NearFarStrip.h"
#include "neco/ui/PatchBankBuilder.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <memory>

using neco::PatchFeatures;
using neco::ui::NearFarScope;
using neco::ui::NearFarStrip;
using neco::ui::PatchBankBuilder;
using neco::ui::PatchBankPtr;

namespace {

constexpr int kGrid = 4;      // 4 x 4 patches
constexpr int kPatchPx = 16;  // of 16 x 16 pixels
constexpr int kWaitMs = 60000;

QColor patchColour(int p, int salt = 0) { return QColor((p * 16 + salt) % 256, 255 - p * 16, (p * 37 + salt * 3) % 256); }

QImage patchImage(int salt = 0) {
  QImage img(kGrid * kPatchPx, kGrid * kPatchPx, QImage::Format_RGB888);
  for (int p = 0; p < kGrid * kGrid; ++p) {
    for (int y = 0; y < kPatchPx; ++y) {
      for (int x = 0; x < kPatchPx; ++x) img.setPixelColor((p % kGrid) * kPatchPx + x, (p / kGrid) * kPatchPx + y, patchColour(p, salt));
    }
  }
  return img;
}

/// Patch p's token is cos(t) e0 + sin(t) e1 with cos(t) = scores[p]: the query e0 (patch 0) scores exactly these.
std::shared_ptr<PatchFeatures> features(const std::vector<double>& scores) {
  auto f = std::make_shared<PatchFeatures>();
  f->gridH = f->gridW = kGrid;
  f->dim = 4;
  f->patchSize = kPatchPx;
  for (const double s : scores) {
    const auto c = static_cast<float>(s), si = static_cast<float>(std::sqrt(std::max(0.0, 1 - s * s)));
    f->tokens.insert(f->tokens.end(), {c, si, 0.f, 0.f});
  }
  return f;
}

std::vector<double> descendingScores() {  // patch 0 = the query (1.0), then 0.88, 0.76, ..., -0.80
  std::vector<double> s;
  for (int p = 0; p < kGrid * kGrid; ++p) s.push_back(1.0 - 0.12 * p);
  return s;
}

bool close(QColor a, QColor b, int tol = 4) {
  return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol && std::abs(a.blue() - b.blue()) <= tol;
}

QImage thumbnailPixels(QWidget* tile) {
  auto* label = tile->findChild<QLabel*>(QStringLiteral("thumbnail"));
  return label ? label->grab().toImage().convertToFormat(QImage::Format_RGB888) : QImage();
}

QString scoreText(QWidget* tile) { return tile->findChild<QLabel*>(QStringLiteral("score"))->text(); }

}  // namespace

class NearFarStripTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void withinTheImageShowsTheKnownOrderScoresAndPixels() {
    NearFarStrip strip;
    strip.resize(900, 320);
    strip.show();
    QVERIFY(QTest::qWaitForWindowExposed(&strip));
    QSignalSpy shown(&strip, &NearFarStrip::rankingShown);
    strip.setK(3);
    strip.setQuery(features(descendingScores()), patchImage(), QStringLiteral("/data/query.png"), QPoint(0, 0));
    QVERIFY(shown.wait(kWaitMs));
    QCOMPARE(strip.nearest().size(), 3u);
    QCOMPARE(strip.farthest().size(), 3u);
    const QPoint nearWant[] = {{1, 0}, {2, 0}, {3, 0}}, farWant[] = {{3, 3}, {2, 3}, {1, 3}};
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(strip.nearest()[i].patch, nearWant[i]);
      QCOMPARE(strip.farthest()[i].patch, farWant[i]);
      QCOMPARE(strip.nearest()[i].path, QStringLiteral("/data/query.png"));
    }
    QVERIFY(std::abs(strip.nearest()[0].score - 0.88f) < 1e-5f);
    QCOMPARE(scoreText(strip.tile(true, 0)), QStringLiteral("#1  0.88"));
    QCOMPARE(scoreText(strip.tile(true, 2)), QStringLiteral("#3  0.64"));
    QCOMPARE(scoreText(strip.tile(false, 0)), QStringLiteral("#1  -0.80"));
    QCOMPARE(strip.tile(true, 0)->findChild<QLabel*>(QStringLiteral("source"))->text(), QStringLiteral("query.png"));
    QVERIFY(strip.tile(true, 3) == nullptr);

    // real pixels: the patch area is the source patch's colour, the frame around it is its neighbours, dimmed
    const QImage near1 = thumbnailPixels(strip.tile(true, 0));  // patch (1, 0) = index 1
    const int m = (neco::ui::kNearFarThumbSide - neco::ui::kNearFarPatchSide) / 2;
    for (const QPoint at : {QPoint(36, 36), QPoint(m + 2, m + 2), QPoint(m + neco::ui::kNearFarPatchSide - 3, m + 2)}) {
      QVERIFY2(close(near1.pixelColor(at), patchColour(1)), qPrintable(near1.pixelColor(at).name() + " vs " + patchColour(1).name()));
    }
    const QColor right = near1.pixelColor(neco::ui::kNearFarThumbSide - 2, 36);  // patch (2, 0) under the dim
    QVERIFY(right.red() < patchColour(2).red() && right.green() < patchColour(2).green());
    QVERIFY(right.green() > 20);  // dimmed, not blacked out
    const QImage far1 = thumbnailPixels(strip.tile(false, 0));  // patch (3, 3) = index 15
    QVERIFY2(close(far1.pixelColor(36, 36), patchColour(15)), qPrintable(far1.pixelColor(36, 36).name()));

    // a click jumps to the patch
    QSignalSpy activated(&strip, &NearFarStrip::patchActivated);
    QTest::mouseClick(strip.tile(false, 1), Qt::LeftButton, {}, QPoint(10, 10));
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("/data/query.png"));
    QCOMPARE(activated.at(0).at(1).toPoint(), QPoint(2, 3));

    // k follows the spin box; a query patch off the grid clears the strip
    strip.setK(5);
    QVERIFY(shown.wait(kWaitMs));
    QCOMPARE(strip.nearest().size(), 5u);
    QVERIFY(strip.tile(true, 4) != nullptr);
    strip.setQuery(features(descendingScores()), patchImage(), QStringLiteral("/data/query.png"), QPoint(7, 0));
    QVERIFY(strip.nearest().empty());
  }

  void bankScopeIsDisabledUntilABankAndReadsOtherImages() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString queryPath = dir.filePath(QStringLiteral("query.png")), otherPath = dir.filePath(QStringLiteral("other.png"));
    QVERIFY(patchImage().save(queryPath));
    QVERIFY(patchImage(100).save(otherPath));
    NearFarStrip strip;
    strip.resize(900, 320);
    strip.show();
    auto* scope = strip.findChild<QComboBox*>();
    auto* model = qobject_cast<QStandardItemModel*>(scope->model());
    QVERIFY(!model->item(1)->isEnabled());
    QVERIFY(model->item(1)->toolTip().contains(QStringLiteral("No dataset bank")));
    strip.setScope(NearFarScope::Bank);
    QCOMPARE(strip.scope(), NearFarScope::Image);

    // the other image's patch 5 is closer to the query than anything in the query image
    const auto query = features(descendingScores());
    std::vector<double> otherScores(kGrid * kGrid, -0.9);
    otherScores[5] = 0.99;
    auto bank = std::make_shared<neco::PatchBank>(neco::PatchBankDevice::Cpu);
    bank->add(queryPath.toStdString(), *query);
    bank->add(otherPath.toStdString(), *features(otherScores));
    strip.setBank(bank);
    QVERIFY(model->item(1)->isEnabled());
    QSignalSpy shown(&strip, &NearFarStrip::rankingShown);
    strip.setK(2);
    strip.setQuery(query, patchImage(), queryPath, QPoint(0, 0));
    QVERIFY(shown.wait(kWaitMs));
    strip.setScope(NearFarScope::Bank);
    QCOMPARE(strip.scope(), NearFarScope::Bank);
    QVERIFY(shown.wait(kWaitMs));
    QCOMPARE(strip.nearest().size(), 2u);
    QCOMPARE(strip.nearest()[0].path, otherPath);
    QCOMPARE(strip.nearest()[0].patch, QPoint(1, 1));
    QCOMPARE(strip.nearest()[1].path, queryPath);  // 0.88: the query patch itself (1.0) is left out
    QCOMPARE(strip.nearest()[1].patch, QPoint(1, 0));
    QCOMPARE(strip.farthest()[0].path, otherPath);
    QCOMPARE(strip.tile(true, 0)->findChild<QLabel*>(QStringLiteral("source"))->text(), QStringLiteral("other.png"));
    // the other image's thumbnail comes from the file
    const QImage t = thumbnailPixels(strip.tile(true, 0));
    QVERIFY2(close(t.pixelColor(36, 36), patchColour(5, 100)), qPrintable(t.pixelColor(36, 36).name()));
    QSignalSpy activated(&strip, &NearFarStrip::patchActivated);
    QTest::mouseClick(strip.tile(true, 0), Qt::LeftButton, {}, QPoint(30, 30));
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.at(0).at(0).toString(), otherPath);
    QCOMPARE(activated.at(0).at(1).toPoint(), QPoint(1, 1));

    // removing the bank falls back to the image scope
    strip.setBank(nullptr);
    QCOMPARE(strip.scope(), NearFarScope::Image);
    QVERIFY(shown.wait(kWaitMs));
    QCOMPARE(strip.nearest()[0].path, queryPath);

    // a bank of another model (dim 8) is reported in the strip, not thrown
    auto wrong = std::make_shared<neco::PatchBank>(neco::PatchBankDevice::Cpu);
    PatchFeatures f8;
    f8.gridH = f8.gridW = 1;
    f8.dim = 8;
    f8.tokens = {1, 0, 0, 0, 0, 0, 0, 0};
    wrong->add("x", f8);
    strip.setBank(wrong);
    strip.setScope(NearFarScope::Bank);
    QVERIFY(shown.wait(kWaitMs));
    QVERIFY(strip.nearest().empty());
  }

  void builderSkipsACorruptImageAndReportsProgress() {
    QTemporaryDir dir;
    QStringList paths;
    for (int i = 0; i < 3; ++i) {
      paths << dir.filePath(QStringLiteral("img%1.png").arg(i));
      QVERIFY(patchImage(i * 40).save(paths.back()));
    }
    const QString broken = dir.filePath(QStringLiteral("broken.png"));
    QFile file(broken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("\x89PNG\r\n\x1a\n this is not a png at all");
    file.close();
    paths.insert(1, broken);

    std::shared_ptr<const neco::FeatureExtractor> model = neco::FeatureExtractor::createDemo();
    PatchBankBuilder builder;
    QSignalSpy finished(&builder, &PatchBankBuilder::finished), skipped(&builder, &PatchBankBuilder::imageSkipped),
        progress(&builder, &PatchBankBuilder::progress), failed(&builder, &PatchBankBuilder::failed);
    builder.build(paths, 56, model);
    QVERIFY(builder.running());
    QVERIFY(finished.wait(kWaitMs));
    QVERIFY(!builder.running());
    QCOMPARE(failed.count(), 0);
    QCOMPARE(skipped.count(), 1);
    QCOMPARE(skipped.at(0).at(0).toString(), broken);
    QVERIFY(!skipped.at(0).at(1).toString().isEmpty());
    QCOMPARE(progress.count(), 4);
    QCOMPARE(progress.last().at(0).toInt(), 4);
    QCOMPARE(progress.last().at(1).toInt(), 4);
    const auto bank = finished.at(0).at(0).value<PatchBankPtr>();
    QVERIFY(bank);
    QCOMPARE(bank->imageCount(), 3);
    QCOMPARE(bank->dim(), model->describe().embedDim);
    QCOMPARE(finished.at(0).at(1).toStringList(), QStringList({paths[0], paths[2], paths[3]}));
    QCOMPARE(QString::fromStdString(bank->image(1).name), paths[2]);

    // nothing readable: failed, naming the reason
    builder.build({broken}, 56, model);
    QVERIFY(failed.wait(kWaitMs));
    QVERIFY(failed.at(0).at(0).toString().contains(QStringLiteral("patch bank")));
  }

  void supersededAndCancelledBuildsStopCleanly() {
    QTemporaryDir dir;
    QStringList many;
    const QString one = dir.filePath(QStringLiteral("one.png"));
    QVERIFY(patchImage().save(one));
    for (int i = 0; i < 200; ++i) many << one;
    std::shared_ptr<const neco::FeatureExtractor> model = neco::FeatureExtractor::createDemo();
    {
      PatchBankBuilder builder;
      QSignalSpy finished(&builder, &PatchBankBuilder::finished);
      builder.build(many, 112, model);
      builder.build({one, one}, 56, model);  // supersedes: only this build reports
      QVERIFY(finished.wait(kWaitMs));
      QTest::qWait(100);
      QCOMPARE(finished.count(), 1);
      QCOMPARE(finished.at(0).at(0).value<PatchBankPtr>()->imageCount(), 2);
    }
    // cancelled mid-build: the build stops reporting at once, its thread ends on its own and is reaped
    {
      PatchBankBuilder builder;
      QSignalSpy finished(&builder, &PatchBankBuilder::finished);
      int seen = 0;
      connect(&builder, &PatchBankBuilder::progress, &builder, [&] { ++seen; });
      builder.build(many, 112, model);
      QTRY_VERIFY_WITH_TIMEOUT(seen > 0, kWaitMs);
      builder.cancel();
      QVERIFY(!builder.running());
      const int atCancel = seen;
      QTest::qWait(300);
      QCOMPARE(seen, atCancel);
      QCOMPARE(finished.count(), 0);
      builder.build({one, one}, 56, model);
      QVERIFY(finished.wait(kWaitMs));
      QCOMPARE(finished.at(0).at(0).value<PatchBankPtr>()->imageCount(), 2);
      QTRY_VERIFY_WITH_TIMEOUT(
          [&] {
            builder.cancel();  // reaps the threads that are done
            return builder.finishingCount() == 0;
          }(),
          kWaitMs);
    }
    // destroyed mid-build: returns after at most the image being extracted, nothing is delivered
    QElapsedTimer timer;
    timer.start();
    int progressSeen = 0;
    {
      PatchBankBuilder builder;
      connect(&builder, &PatchBankBuilder::progress, &builder, [&] { ++progressSeen; });
      builder.build(many, 112, model);
      QTRY_VERIFY_WITH_TIMEOUT(progressSeen > 0, kWaitMs);
    }
    QVERIFY(progressSeen < 200);
    QVERIFY2(timer.elapsed() < kWaitMs, qPrintable(QString::number(timer.elapsed())));
    QTest::qWait(50);  // no queued signal of the dead builder arrives
  }
};

QTEST_MAIN(NearFarStripTest)
#include "NearFarStripTest.moc"
