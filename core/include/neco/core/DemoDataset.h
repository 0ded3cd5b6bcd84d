#pragma once
// The embedded demo dataset: a deterministic generator of small labelled scenes written in the
// Pascal VOC 2012 layout, so that `neco demo-data` and the studio's first run need no download.
//
// A scene is a textured background (class 0) with 1-4 textured shapes that may occlude each other.
// Each foreground class is a fixed (shape, texture) pairing; colours are jittered per instance, so the
// texture, not the colour alone, tells the classes apart and patch features have something to learn.
// Labels follow VOC: 255 ("void") marks a 2-3 px band along every boundary between two labels.

#include "neco/core/Image.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace neco {

/// Limits of DemoDatasetOptions: image sides in [kDemoMinSide, kDemoMaxSide], at most kDemoMaxImages
/// images in all (ids have six digits).
inline constexpr int kDemoMinSide = 64;
inline constexpr int kDemoMaxSide = 4096;
inline constexpr int kDemoMaxImages = 999999;

struct DemoDatasetOptions {
  int trainCount = 48;     ///< images in ImageSets/Segmentation/train.txt
  int valCount = 16;       ///< images in ImageSets/Segmentation/val.txt
  std::uint64_t seed = 7;  ///< every pixel is a function of (seed, image index, sizes)
  int minSide = 192;       ///< image width and height are drawn from [minSide, maxSide]
  int maxSide = 320;
};

struct DemoScene {
  RgbImage image;
  LabelImage labels;  ///< 0 background, 1..6 foreground classes, 255 void band
};

struct DemoDatasetSummary {
  std::filesystem::path root;          ///< the dataset folder (absolute)
  std::filesystem::path imagesDir;     ///< root/JPEGImages
  std::filesystem::path masksDir;      ///< root/SegmentationClass
  std::filesystem::path imageSetsDir;  ///< root/ImageSets/Segmentation
  int trainCount = 0;
  int valCount = 0;
  int classCount = 0;    ///< including background
  bool created = false;  ///< false when an identical demo dataset was already there
};

/// The class names in index order: "background" then the six foreground classes.
std::vector<std::string> demoClassNames();

/// The id of the scene with the given index, e.g. 17 -> "demo_000017".
std::string demoSceneId(int index);

/// Renders scene `index` of the dataset with the given seed; only the side limits of `options` are used.
/// Same arguments, same bytes, on every run and compiler (own PRNG and sine, integer geometry; no std
/// distributions, no libm trigonometry).
/// Throws InvalidArgumentError for a negative index or side limits outside [kDemoMinSide, kDemoMaxSide]
/// or reversed.
DemoScene renderDemoScene(std::uint64_t seed, int index, const DemoDatasetOptions& options);

/// Writes the dataset under `root` in the VOC 2012 layout (JPEGImages/<id>.jpg at quality 95,
/// SegmentationClass/<id>.png with the VOC palette, ImageSets/Segmentation/{train,val,trainval}.txt,
/// classes.txt, README.txt and the marker file .neco-demo holding the options). Everything is built
/// in a sibling folder and renamed into place at the end, so `root` is either complete or absent;
/// missing parent folders are created. Ids run demo_000000.. through the train images, then the val
/// images. An existing demo dataset with identical options is left as it is (created == false), also
/// when another writer (the studio, the CLI) finished the same dataset first.
/// Throws InvalidArgumentError (bad options; `root` is a file, a non-empty folder that is not a demo
/// dataset, or a demo dataset made with other options — nothing there is touched), IoError (a write
/// or the final rename failed), UnsupportedError (this build has no image codecs).
DemoDatasetSummary writeDemoDataset(const std::filesystem::path& root, const DemoDatasetOptions& options = {});

/// True when `root` is a folder holding a demo dataset's marker file. Never throws.
bool isDemoDataset(const std::filesystem::path& root) noexcept;

}  // namespace neco
