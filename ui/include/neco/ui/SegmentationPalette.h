#pragma once
// Class colours and names for segmentation overlays, per dataset:
//   demo, voc    the Pascal VOC bit palette (core's vocPalette(), the colours of VOC's PNG masks)
//   ade20k       the 150-colour ADE20K palette of the reference segmentation code (MMSegmentation's
//                ADE20KDataset.PALETTE, CSAIL's color150), shifted by one: our ADE20K masks keep
//                index 0 for "other" (the ignore index) and 1..150 for the classes
//   cityscapes   the 19 train-id colours of the Cityscapes scripts (labels.py)
// Entries a dataset does not define (up to 256) fall back to the VOC bit palette, so every label
// value has a colour. Ignored pixels are never drawn with a palette colour: see SegmentationOverlay.h.

#include <QColor>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace neco::ui {

struct ClassPalette {
  QString dataset;              ///< "demo", "voc", "ade20k", "cityscapes"
  std::vector<QColor> colours;  ///< 256 entries, indexed by label value
  QStringList names;            ///< one per class (the data's names, else the dataset's, else "class i")
};

/// The palette of a dataset kind (unknown kinds get the VOC palette) for `classes` classes;
/// `names` are the data's own class names (may be empty).
ClassPalette classPalette(const QString& dataset, int classes, const std::vector<std::string>& names = {});

/// The VOC bit palette (256 entries).
std::vector<QColor> vocColours();
/// The 150 ADE20K class colours in the reference order (wall, building, sky, ...).
const std::vector<QColor>& ade20kColours();
/// The 19 Cityscapes train-id colours (road, sidewalk, building, ...).
const std::vector<QColor>& cityscapesColours();

}  // namespace neco::ui
