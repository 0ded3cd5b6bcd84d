#pragma once
// What SegmentationQualityView.cpp and SegmentationQualityLayout.cpp share (private to ui/src).

#include "neco/core/DemoDataset.h"

#include <QString>

namespace neco::ui::detail {

inline constexpr int kMaxK = 100;  ///< the K slider's top (or twice the classes, when more)

/// The class count of a dataset kind before its data is opened (the K slider's bottom).
inline int expectedClasses(const QString& kind) {
  if (kind == QLatin1String("voc")) return 21;
  if (kind == QLatin1String("ade20k")) return 151;
  if (kind == QLatin1String("cityscapes")) return 19;
  return static_cast<int>(demoClassNames().size());
}

}  // namespace neco::ui::detail
