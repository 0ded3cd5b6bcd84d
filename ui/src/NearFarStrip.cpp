#include "neco/ui/NearFarStrip.h"

#include "NearFarSearcher.h"
#include "SlotGuard.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QScrollArea>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <functional>

namespace neco::ui {

namespace {

constexpr int kScopeImage = 0;
constexpr int kScopeBank = 1;
constexpr int kTileTextWidth = kNearFarThumbSide + 8;

/// One result: thumbnail, "#rank  score", elided image name. Clicking anywhere on it activates it.
class NearFarTile : public QWidget {
 public:
  NearFarTile(const QImage& thumb, int rank, const NearFarEntry& e, std::function<void()> onClick, QWidget* parent)
      : QWidget(parent), onClick_(std::move(onClick)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->setSpacing(1);
    auto* picture = new QLabel(this);
    picture->setObjectName(QStringLiteral("thumbnail"));
    picture->setPixmap(QPixmap::fromImage(thumb));
    picture->setFixedSize(kNearFarThumbSide, kNearFarThumbSide);
    auto* score = new QLabel(QStringLiteral("#%1  %2").arg(rank).arg(static_cast<double>(e.score), 0, 'f', 2), this);
    score->setObjectName(QStringLiteral("score"));
    const QString name = QFileInfo(e.path).fileName();
    auto* source = new QLabel(this);
    source->setObjectName(QStringLiteral("source"));
    source->setText(source->fontMetrics().elidedText(name, Qt::ElideMiddle, kTileTextWidth));
    for (QLabel* l : {score, source}) {
      l->setAlignment(Qt::AlignHCenter);
      l->setFixedWidth(kTileTextWidth);
    }
    layout->addWidget(picture, 0, Qt::AlignHCenter);
    layout->addWidget(score);
    layout->addWidget(source);
    setToolTip(tr("%1\npatch (%2, %3), similarity %4\nClick to show it")
                   .arg(e.path).arg(e.patch.x()).arg(e.patch.y()).arg(static_cast<double>(e.score), 0, 'f', 4));
    setCursor(Qt::PointingHandCursor);
  }

 protected:
  void mousePressEvent(QMouseEvent* event) override {
    if (event->button() == Qt::LeftButton) onClick_();
  }

 private:
  std::function<void()> onClick_;
};

QHBoxLayout* addRankedRow(QGridLayout* grid, int row, const QString& title, QWidget* owner) {
  auto* label = new QLabel(QStringLiteral("<b>%1</b>").arg(title), owner);
  auto* strip = new QWidget(owner);
  auto* layout = new QHBoxLayout(strip);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  layout->addStretch(1);
  auto* scroll = new QScrollArea(owner);
  scroll->setWidget(strip);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setMinimumHeight(kNearFarThumbSide + 56);
  grid->addWidget(label, row, 0, Qt::AlignTop);
  grid->addWidget(scroll, row, 1);
  return layout;
}

}  // namespace

NearFarStrip::NearFarStrip(QWidget* parent) : QWidget(parent) {
  auto* top = new QHBoxLayout;
  queryLabel_ = new QLabel(tr("No query patch"), this);
  scope_ = new QComboBox(this);
  scope_->addItem(tr("This image"));
  scope_->addItem(tr("Dataset bank"));
  scope_->setToolTip(tr("Rank the patches of the query image only, or of every image in the dataset bank"));
  k_ = new QSpinBox(this);
  k_->setRange(1, kMaxK);
  k_->setValue(kDefaultK);
  k_->setPrefix(tr("k = "));
  k_->setToolTip(tr("How many nearest and farthest patches to show"));
  status_ = new QLabel(this);
  top->addWidget(queryLabel_, 1);
  top->addWidget(status_);
  top->addWidget(scope_);
  top->addWidget(k_);
  auto* grid = new QGridLayout;
  nearRow_ = addRankedRow(grid, 0, tr("Nearest"), this);
  farRow_ = addRankedRow(grid, 1, tr("Farthest"), this);
  grid->setColumnStretch(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(grid);
  setBank(nullptr);

  connect(scope_, &QComboBox::currentIndexChanged, this, [this] { guardSlot("NearFarStrip::scope", [&] { requestRanking(); }); });
  connect(k_, &QSpinBox::valueChanged, this, [this] { guardSlot("NearFarStrip::k", [&] { requestRanking(); }); });
  searcher_ = std::make_unique<NearFarSearcher>([this](NearFarResult result) {
    // worker thread -> UI thread; the strip joins the worker before it dies, so `this` is alive here
    QMetaObject::invokeMethod(this, [this, r = std::move(result)]() mutable { showResult(std::move(r)); }, Qt::QueuedConnection);
  });
}

NearFarStrip::~NearFarStrip() { searcher_.reset(); }

void NearFarStrip::setQuery(FeaturesPtr features, QImage image, QString path, QPoint patch) {
  if (!features || features->empty() || patch.x() < 0 || patch.y() < 0 || patch.x() >= features->gridW ||
      patch.y() >= features->gridH) {
    clearQuery();
    return;
  }
  features_ = std::move(features);
  image_ = std::move(image);
  path_ = std::move(path);
  patch_ = patch;
  queryLabel_->setText(tr("Query: %1, patch (%2, %3)").arg(QFileInfo(path_).fileName()).arg(patch.x()).arg(patch.y()));
  requestRanking();
}

void NearFarStrip::clearQuery() {
  features_.reset();
  image_ = {};
  path_.clear();
  ++lastRequest_;  // a search still running is not shown
  queryLabel_->setText(tr("No query patch"));
  status_->clear();
  nearest_.clear();
  farthest_.clear();
  fillRow(nearRow_, {}, {}, true);
  fillRow(farRow_, {}, {}, false);
}

void NearFarStrip::setBank(std::shared_ptr<const PatchBank> bank) {
  bank_ = std::move(bank);
  auto* model = qobject_cast<QStandardItemModel*>(scope_->model());
  QStandardItem* item = model->item(kScopeBank);
  item->setEnabled(bank_ != nullptr);
  item->setToolTip(bank_ ? tr("Rank the patches of all %1 images in the bank (%2 patches)")
                               .arg(bank_->imageCount()).arg(bank_->rowCount())
                         : tr("No dataset bank yet: build one from the dataset first"));
  if (!bank_ && scope_->currentIndex() == kScopeBank) scope_->setCurrentIndex(kScopeImage);  // re-ranks
  else if (scope_->currentIndex() == kScopeBank) requestRanking();
}

void NearFarStrip::setScope(NearFarScope scope) {
  scope_->setCurrentIndex(scope == NearFarScope::Bank && bank_ ? kScopeBank : kScopeImage);
}

NearFarScope NearFarStrip::scope() const {
  return scope_->currentIndex() == kScopeBank ? NearFarScope::Bank : NearFarScope::Image;
}

void NearFarStrip::setK(int k) { k_->setValue(k); }
int NearFarStrip::k() const { return k_->value(); }

QWidget* NearFarStrip::tile(bool nearestRow, int rank) const {
  const auto& tiles = nearestRow ? nearTiles_ : farTiles_;
  return rank >= 0 && rank < static_cast<int>(tiles.size()) ? tiles[static_cast<std::size_t>(rank)] : nullptr;
}

void NearFarStrip::requestRanking() {
  if (!features_) return;
  NearFarRequest r;
  r.id = ++lastRequest_;
  r.features = features_;
  r.image = image_;
  r.path = path_;
  r.patch = patch_;
  r.k = k();
  if (scope() == NearFarScope::Bank) r.bank = bank_;
  status_->setText(tr("searching…"));
  searcher_->request(std::move(r));
}

void NearFarStrip::showResult(NearFarResult result) {
  if (result.id != lastRequest_) return;  // superseded by a newer query
  const auto split = [](std::vector<NearFarItem>& items, std::vector<NearFarEntry>& entries, std::vector<QImage>& thumbs) {
    entries.clear();
    for (NearFarItem& item : items) {
      entries.push_back({item.path, item.patch, item.score});
      thumbs.push_back(std::move(item.thumbnail));
    }
  };
  std::vector<QImage> nearThumbs, farThumbs;
  split(result.nearest, nearest_, nearThumbs);
  split(result.farthest, farthest_, farThumbs);
  fillRow(nearRow_, nearest_, nearThumbs, true);
  fillRow(farRow_, farthest_, farThumbs, false);
  status_->setText(result.error.isEmpty() ? QString() : tr("Search failed: %1").arg(result.error));
  status_->setToolTip(result.error);
  Q_EMIT rankingShown();
}

void NearFarStrip::fillRow(QHBoxLayout* row, const std::vector<NearFarEntry>& entries, const std::vector<QImage>& thumbs,
                           bool nearestRow) {
  auto& tiles = nearestRow ? nearTiles_ : farTiles_;
  for (QWidget* t : tiles) {  // later: the click that led here may still be inside a tile's handler
    t->hide();
    t->deleteLater();
  }
  tiles.clear();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const NearFarEntry e = entries[i];
    auto* t = new NearFarTile(thumbs[i], static_cast<int>(i) + 1, e, [this, e] { Q_EMIT patchActivated(e.path, e.patch); },
                              row->parentWidget());
    row->insertWidget(static_cast<int>(i), t);
    tiles.push_back(t);
  }
}

}  // namespace neco::ui
