#pragma once
// Dock contents that scroll instead of imposing their minimum size on the window: the docks of one
// side stack their minimum heights, and the Training, X-ray and Similarity panels together would
// otherwise make the window taller than a 1080p screen.

#include <QFrame>
#include <QScrollArea>

namespace neco::ui {

inline QScrollArea* scrolling(QWidget* view) {
  auto* area = new QScrollArea;
  area->setWidget(view);
  area->setWidgetResizable(true);
  area->setFrameShape(QFrame::NoFrame);
  return area;
}

}  // namespace neco::ui
