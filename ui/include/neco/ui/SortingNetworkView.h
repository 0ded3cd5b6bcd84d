#pragma once
// The "Sorting network" panel: a one-line summary (network, n, layers, comparators, the student's
// settings), the swap-weight legend, zoom controls and the scrollable SortingNetworkDiagram.

#include "neco/core/SoftSort.h"

#include <QWidget>

class QLabel;
class QScrollArea;
class QToolButton;

namespace neco::ui {

class SortingNetworkDiagram;

class SortingNetworkView : public QWidget {
  Q_OBJECT
 public:
  explicit SortingNetworkView(QWidget* parent = nullptr);

  /// Shows the network that sorted `row` with `settings`; the warning of an invalid layout is shown.
  void setNetwork(const SortNetworkLayout& layout, const SoftSortRow& row, const SoftSortSettings& settings);
  void clear();

  SortingNetworkDiagram* diagram() const noexcept { return diagram_; }
  QScrollArea* scrollArea() const noexcept { return scroll_; }
  QLabel* summaryLabel() const noexcept { return summary_; }
  QLabel* warningLabel() const noexcept { return warning_; }
  QToolButton* fitButton() const noexcept { return fit_; }

 private:
  QLabel* summary_;
  QLabel* warning_;
  QToolButton* fit_;
  QToolButton* zoomOut_;
  QToolButton* zoomIn_;
  QScrollArea* scroll_;
  SortingNetworkDiagram* diagram_;
};

}  // namespace neco::ui
