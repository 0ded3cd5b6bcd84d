#pragma once
// The image datasets NeCo trains and evaluates on, opened from the folder layouts the reference code
// reads (METHOD.md section 6: "follow the code"). Opening lists files and pairs images with masks; it
// reads no pixels (DatasetScan.h checks the files) and never writes anything.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neco::data {

enum class DatasetKind { Folder, Coco, ImageNet100, Voc, Ade20k, Cityscapes, Demo };

/// The kind named by a reference config's `dataset` value: "coco", "imagenet100k" (or "imagenet100"),
/// "voc", "ade20k", "cityscapes", plus our "folder" and "demo". Case-insensitive.
/// Throws InvalidArgumentError listing the valid names.
DatasetKind datasetKindFromName(std::string_view name);

/// The canonical lower-case name of a kind ("imagenet100" for ImageNet100).
const char* datasetKindName(DatasetKind kind) noexcept;

struct DatasetItem {
  std::string id;               ///< unique in the dataset, e.g. "2007_000032" or "aachen/aachen_000000_000019"
  std::filesystem::path image;  ///< JPEG or PNG photo
  std::optional<std::filesystem::path> mask;  ///< 8-bit class-index PNG, for labelled datasets
};

struct ImageDataset {
  DatasetKind kind = DatasetKind::Folder;
  std::filesystem::path root;      ///< as given to openDataset
  std::string split;               ///< as given ("" for Folder)
  std::vector<DatasetItem> items;  ///< sorted by image path
  int classCount = 0;              ///< classes including background; 0 when unlabelled
  int ignoreIndex = 255;           ///< mask value excluded from losses and metrics (ADE20K: 0)
};

/// Lists a dataset's items. Layouts (paths relative to `root`):
///   Folder      every .jpg/.jpeg/.png below root (recursive, case-insensitive); split "" or "train"
///   Coco        train2017/ or val2017/ (split "train" / "val"); unlabelled
///   ImageNet100 <split>/<wnid>/*.JPEG (split "train" / "val"); only the wnids of root/imagenet100.txt
///               when that file exists; unlabelled
///   Voc         [VOCSegmentation/]{images, SegmentationClass[Aug], sets/<split>.txt} (NeCo's layout) or
///               {JPEGImages, SegmentationClass[Aug], ImageSets/Segmentation/<split>.txt} (VOC 2012);
///               "train*" splits read SegmentationClassAug when it exists; 21 classes, ignore 255
///   Demo        the demo dataset (VOC 2012 layout, DemoDataset.h); split "" means "train"
///   Ade20k      root = ADEChallengeData2016: images/<training|validation>/*.jpg with
///               annotations/<same>/<stem>.png (split "train" / "val"); 151 classes, ignore 0
///   Cityscapes  leftImg8bit/<split>/<city>/*_leftImg8bit.png with
///               gtFine/<split>/<city>/*_gtFine_labelIds.png (raw label ids: map them with
///               cityscapesLabelIdToTrainId()); 19 classes, ignore 255
/// Every listed id of a split file must exist: evaluation splits never lose images silently.
/// Throws IoError (root missing, not a folder, or unreadable), InvalidArgumentError (a split the kind
/// does not have), FormatError (naming the path: a folder or split file the layout needs is missing, a
/// split file lists a bad, duplicate or missing id, a labelled image has no mask, the dataset is empty).
ImageDataset openDataset(DatasetKind kind, const std::filesystem::path& root, const std::string& split);

/// Cityscapes' gtFine labelIds to the 19 train ids: {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25,
/// 26, 27, 28, 31, 32, 33} -> 0..18, every other value -> 255.
std::array<std::uint8_t, 256> cityscapesLabelIdToTrainId() noexcept;

}  // namespace neco::data
