// The dataset browser and keyboard navigation, headless: folders are listed recursively in natural
// order with label folders skipped, thumbnails are decoded lazily off the UI thread and show the
// image's real pixels, unreadable files are marked, ←/→ and D/F move through the list, a dropped
// folder is listed, and the `?` sheet lists the real shortcuts.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/MainWindow.h"
#include "StudioTestSupport.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/RecentFiles.h"
#include "neco/ui/ShortcutSheet.h"

#include <QDir>
#include <QFile>
#include <QListView>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using neco::ui::DatasetBrowser;
using neco::ui::MainWindow;

class DatasetBrowserTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString demoRoot_;
  std::shared_ptr<const neco::FeatureExtractor> extractor_;

  static void writeSolid(const QString& path, QColor colour, QSize size = {40, 30}) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QImage image(size, QImage::Format_RGB32);
    image.fill(colour);
    QVERIFY(image.save(path));
  }
  static void writeBytes(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(bytes);
  }
  static bool near(QColor a, QColor b, int tol = 6) {
    return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
           std::abs(a.blue() - b.blue()) <= tol;
  }
  // A small dataset: natural order, a nested folder, a label folder, a corrupt file, a text file.
  QString makeFolder() {
    const QString root = tmp_.filePath(QStringLiteral("set"));
    writeSolid(root + QStringLiteral("/img10.png"), Qt::blue);
    writeSolid(root + QStringLiteral("/img2.png"), Qt::red);
    writeSolid(root + QStringLiteral("/sub/deeper/c.jpg"), QColor(0, 160, 0), {64, 64});
    writeSolid(root + QStringLiteral("/SegmentationClass/img2.png"), Qt::black);
    writeBytes(root + QStringLiteral("/broken.png"), QByteArray("\x89PNG\r\n\x1a\nnot really", 18));
    writeBytes(root + QStringLiteral("/notes.txt"), "hello");
    return root;
  }
  void openDemoAndWait(MainWindow& w) { neco::test::openDemoAndWait(w, demoRoot_); }
  static void waitForPath(MainWindow& w, const QString& path) {
    QTRY_COMPARE_WITH_TIMEOUT(w.currentPath(), path, 60000);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    demoRoot_ = tmp_.filePath(QStringLiteral("demo"));
    extractor_ = neco::test::quietDemoModel();
  }

  void listsImagesRecursivelyInNaturalOrderSkippingLabelFolders() {
    DatasetBrowser browser;
    const QString root = makeFolder();
    QCOMPARE(browser.setFolder(root), 4);
    const QStringList expected{root + QStringLiteral("/broken.png"), root + QStringLiteral("/img2.png"),
                               root + QStringLiteral("/img10.png"), root + QStringLiteral("/sub/deeper/c.jpg")};
    QCOMPARE(browser.images(), expected);
    QCOMPARE(browser.currentIndex(), -1);
    QCOMPARE(browser.setFolder(tmp_.filePath(QStringLiteral("does-not-exist"))), 0);
    QCOMPARE(browser.count(), 0);
  }

  void thumbnailsShowTheImagesPixelsAndMarkUnreadableFiles() {
    DatasetBrowser browser;
    browser.resize(300, 500);
    const QString root = makeFolder();
    browser.setFolder(root);
    QSignalSpy ready(&browser, &DatasetBrowser::thumbnailReady);
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 4, 20000);  // all four rows are visible
    QVERIFY(browser.thumbnail(0).isNull());               // broken.png: no thumbnail…
    const QModelIndex broken = browser.listView()->model()->index(0, 0);
    QVERIFY(broken.data(Qt::ToolTipRole).toString().contains(QStringLiteral("cannot be read")));
    const QImage red = browser.thumbnail(1);
    QVERIFY(!red.isNull());
    QVERIFY(red.width() <= DatasetBrowser::kThumbnailSide * 2 && red.height() <= DatasetBrowser::kThumbnailSide * 2);
    const QColor centre = red.pixelColor(red.width() / 2, red.height() / 2);
    QVERIFY2(near(centre, Qt::red), qPrintable(centre.name()));
    // …and the list paints it: the decoration of row 2 (img10, blue) holds blue pixels on screen.
    QApplication::processEvents();
    const QImage shot = browser.listView()->viewport()->grab().toImage();
    const QRect row = browser.listView()->visualRect(browser.listView()->model()->index(2, 0));
    int blue = 0;
    for (int x = row.left(); x < row.left() + DatasetBrowser::kThumbnailSide && x < shot.width(); ++x)
      if (near(shot.pixelColor(x, row.center().y()), Qt::blue)) ++blue;
    QVERIFY2(blue > 10, qPrintable(QStringLiteral("%1 blue pixels across the thumbnail").arg(blue)));
  }

  void thumbnailsAreDecodedOnlyForVisibleRows() {
    const QString root = tmp_.filePath(QStringLiteral("many"));
    for (int i = 0; i < 300; ++i) writeSolid(QStringLiteral("%1/%2.png").arg(root).arg(i), QColor(i % 256, 80, 80), {8, 8});
    DatasetBrowser browser;
    browser.resize(240, 300);
    QCOMPARE(browser.setFolder(root), 300);
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    QTRY_VERIFY_WITH_TIMEOUT(browser.thumbnailsDecoded() > 0, 20000);
    QTest::qWait(300);
    QVERIFY2(browser.thumbnailsDecoded() < 60, qPrintable(QString::number(browser.thumbnailsDecoded())));
    // Scrolling to the end decodes the rows that come into view.
    browser.listView()->scrollToBottom();
    QTRY_VERIFY_WITH_TIMEOUT(!browser.thumbnail(299).isNull(), 20000);
  }

  void nextAndPreviousMoveThroughTheListAndStopAtTheEnds() {
    DatasetBrowser browser;
    const QString root = makeFolder();
    browser.setFolder(root);
    QSignalSpy activated(&browser, &DatasetBrowser::imageActivated);
    QVERIFY(browser.next());  // nothing current: the first image
    QCOMPARE(activated.takeLast().at(0).toString(), browser.images()[0]);
    QVERIFY(!browser.previous());
    QVERIFY(browser.setCurrentPath(browser.images()[3]));  // no signal for the window's own choice
    QCOMPARE(activated.count(), 0);
    QVERIFY(!browser.next());
    QVERIFY(browser.previous());
    QCOMPARE(activated.takeLast().at(0).toString(), browser.images()[2]);
    QVERIFY(!browser.setCurrentPath(tmp_.filePath(QStringLiteral("elsewhere.png"))));
    QCOMPARE(browser.currentIndex(), -1);
  }

  void arrowsAndDFNavigateTheWindowThroughTheDemo() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1400, 900);
    w.show();
    w.activateWindow();  // window shortcuts need the active window (no window manager under Xvfb)
    QVERIFY(QTest::qWaitForWindowActive(&w));
    openDemoAndWait(w);
    DatasetBrowser* browser = w.datasetBrowser();
    QVERIFY(browser->count() >= 3);
    QCOMPARE(browser->currentIndex(), 0);
    const QStringList images = browser->images();
    w.canvas()->setFocus();
    QTest::keyClick(&w, Qt::Key_Right);
    waitForPath(w, images[1]);
    QCOMPARE(browser->currentIndex(), 1);
    QTest::keyClick(&w, Qt::Key_F);
    waitForPath(w, images[2]);
    QTest::keyClick(&w, Qt::Key_D);
    waitForPath(w, images[1]);
    QTest::keyClick(&w, Qt::Key_Left);
    waitForPath(w, images[0]);
    QVERIFY(!w.previousImage());  // the first image: nothing before it
    // Clicking a row of the list opens that image.
    QListView* list = browser->listView();
    const QRect row = list->visualRect(list->model()->index(2, 0));
    QTest::mouseClick(list->viewport(), Qt::LeftButton, Qt::NoModifier, row.center());
    waitForPath(w, images[2]);
  }

  void openFolderAndDropListTheFolderAndRememberIt() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    const QString root = makeFolder();
    w.recentDatasets()->clear();
    QCOMPARE(w.openFolder(root), 4);
    QCOMPARE(w.recentDatasets()->paths().value(0), root);
    // The first entry is the corrupt file: a typed error, and the next key moves past it.
    QTRY_VERIFY_WITH_TIMEOUT(w.logPanel()->text().contains(QStringLiteral("broken.png")), 60000);
    QVERIFY(w.nextImage());
    waitForPath(w, root + QStringLiteral("/img2.png"));
    // A folder without images is reported and changes nothing.
    const QString empty = tmp_.filePath(QStringLiteral("empty"));
    QDir().mkpath(empty);
    QCOMPARE(w.openFolder(empty), 0);
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("holds no images")));
    QCOMPARE(w.currentPath(), root + QStringLiteral("/img2.png"));
    QCOMPARE(w.datasetBrowser()->folder(), root);  // still listed
    // Dropping a folder lists it.
    openDemoAndWait(w);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(root)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &drop);
    QCOMPARE(w.datasetBrowser()->folder(), root);
    QCOMPARE(w.datasetBrowser()->count(), 4);
    // An image opened from elsewhere lists its own folder, with it current.
    const QString lone = tmp_.filePath(QStringLiteral("lone/only.png"));
    writeSolid(lone, Qt::yellow);
    w.openImage(lone);
    waitForPath(w, lone);
    QCOMPARE(w.datasetBrowser()->images(), QStringList{lone});
    QCOMPARE(w.datasetBrowser()->currentIndex(), 0);
  }

  void questionMarkShowsTheShortcutSheet() {
    MainWindow w(extractor_);
    QVERIFY(neco::test::showActive(w, QSize(1200, 800)));
    const QImage before = w.grab().toImage();
    QTest::keyClick(&w, Qt::Key_Question);
    neco::ui::ShortcutSheet* sheet = w.shortcutSheet();
    QTRY_VERIFY(sheet->isVisible());
    QCOMPARE(sheet->geometry(), w.rect());
    auto has = [&](const QString& description, const QString& keys) {
      for (const auto& e : sheet->entries())
        if (e.description == description && e.keys.contains(keys)) return true;
      return false;
    };
    QVERIFY(has(QStringLiteral("Next Image"), QKeySequence(Qt::Key_Right).toString(QKeySequence::NativeText)));
    QVERIFY(has(QStringLiteral("Next Image"), QStringLiteral("F")));
    QVERIFY(has(QStringLiteral("Previous Image"), QStringLiteral("D")));
    QVERIFY(has(QStringLiteral("Open Folder"), QStringLiteral("Shift")));
    // No key does two things (Qt would then do neither).
    QHash<QString, QString> owner;
    for (const auto& e : sheet->entries()) {
      if (e.section == QStringLiteral("Mouse")) continue;
      for (const QString& key : e.keys.split(QStringLiteral(" or "))) {
        QVERIFY2(!owner.contains(key), qPrintable(key + QStringLiteral(": ") + owner.value(key) + QStringLiteral(" and ") + e.description));
        owner.insert(key, e.description);
      }
    }
    QVERIFY(has(QStringLiteral("Patch Grid"), QStringLiteral("G")));
    // The window is dimmed behind the sheet's panel: a corner pixel got darker.
    const QImage after = w.grab().toImage();
    const QColor was = before.pixelColor(5, before.height() - 5), now = after.pixelColor(5, after.height() - 5);
    QVERIFY2(now.lightness() < was.lightness() - 40, qPrintable(QStringLiteral("%1 -> %2").arg(was.lightness()).arg(now.lightness())));
    QTest::keyClick(sheet, Qt::Key_Escape);
    QVERIFY(!sheet->isVisible());
    QTest::keyClick(&w, Qt::Key_F1);
    QTRY_VERIFY(sheet->isVisible());
    QTest::mouseClick(sheet, Qt::LeftButton);
    QVERIFY(!sheet->isVisible());
  }
};

QTEST_MAIN(DatasetBrowserTest)
#include "DatasetBrowserTest.moc"
