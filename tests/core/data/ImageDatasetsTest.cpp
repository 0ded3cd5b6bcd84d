// openDataset: every layout of METHOD.md section 6 on tiny fake trees (ids, mask pairing, sorting),
// and a typed error naming the path for each way a layout can be wrong. Opening reads no pixels, so
// most cases use one-byte stand-in files (their contents are never read) and run in every build.

#include "NecoTest.h"
#include "TestFiles.h"
#include "data/ImageDatasets.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#define REQUIRE_IMAGE_CODECS() \
  if (!neco::imageCodecsAvailable()) NECO_SKIP("built without image codecs")

namespace {

namespace fs = std::filesystem;
using neco::data::DatasetKind;
using neco::data::openDataset;
using neco::test::TempDir;

// A one-byte stand-in file: opening a dataset only looks at names, never at contents.
void touch(const fs::path& file, const std::string& text = "x") {
  fs::create_directories(file.parent_path());
  neco::test::writeBytes(file, neco::test::Bytes(text.begin(), text.end()));
}

std::vector<std::string> idsOf(const neco::data::ImageDataset& d) {
  std::vector<std::string> ids;
  for (const auto& item : d.items) ids.push_back(item.id);
  return ids;
}

bool sortedByImage(const neco::data::ImageDataset& d) {
  for (std::size_t i = 1; i < d.items.size(); ++i) {
    if (!(d.items[i - 1].image < d.items[i].image)) return false;
  }
  return true;
}

// The message of the ExceptionType thrown by `f`, or "(none)".
template <typename ExceptionType>
std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ExceptionType& e) {
    return e.what();
  } catch (...) {
    return "(other exception)";
  }
  return "(none)";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// root/{JPEGImages, SegmentationClass, ImageSets/Segmentation} with the given ids in `split`.
void makeVoc2012(const fs::path& root, const std::string& split, const std::string& listText,
                 const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    touch(root / "JPEGImages" / (id + ".jpg"));
    touch(root / "SegmentationClass" / (id + ".png"));
  }
  touch(root / "ImageSets" / "Segmentation" / (split + ".txt"), listText);
}

}  // namespace

NECO_TEST(ImageDatasets, kindNames) {
  using neco::data::datasetKindFromName;
  using neco::data::datasetKindName;
  NECO_CHECK(datasetKindFromName("coco") == DatasetKind::Coco);
  NECO_CHECK(datasetKindFromName("imagenet100k") == DatasetKind::ImageNet100);
  NECO_CHECK(datasetKindFromName("imagenet100") == DatasetKind::ImageNet100);
  NECO_CHECK(datasetKindFromName("VOC") == DatasetKind::Voc);
  NECO_CHECK(datasetKindFromName("ade20k") == DatasetKind::Ade20k);
  NECO_CHECK(datasetKindFromName("cityscapes") == DatasetKind::Cityscapes);
  NECO_CHECK(datasetKindFromName("folder") == DatasetKind::Folder);
  NECO_CHECK(datasetKindFromName("demo") == DatasetKind::Demo);
  for (DatasetKind k : {DatasetKind::Folder, DatasetKind::Coco, DatasetKind::ImageNet100, DatasetKind::Voc,
                        DatasetKind::Ade20k, DatasetKind::Cityscapes, DatasetKind::Demo}) {
    NECO_CHECK(datasetKindFromName(datasetKindName(k)) == k);
  }
  const std::string message = messageOf<neco::InvalidArgumentError>([] { datasetKindFromName("pascal"); });
  NECO_CHECK(contains(message, "'pascal'"));
  NECO_CHECK(contains(message, "imagenet100k") && contains(message, "cityscapes") && contains(message, "demo"));
}

NECO_TEST(ImageDatasets, folderListsImagesRecursivelySorted) {
  TempDir tmp;
  const fs::path root = tmp.path();
  touch(root / "b.JPG");
  touch(root / "a.png");
  touch(root / "sub" / "deeper" / "c.jpeg");
  touch(root / "notes.txt");
  touch(root / "._a.jpg");                     // macOS resource fork: hidden
  touch(root / ".thumbs" / "t.jpg");           // hidden folder
  fs::create_directories(root / "empty.jpg");  // a folder named like an image
  const auto d = openDataset(DatasetKind::Folder, root, "");
  NECO_CHECK(idsOf(d) == (std::vector<std::string>{"a.png", "b.JPG", "sub/deeper/c.jpeg"}));
  NECO_CHECK(sortedByImage(d));
  NECO_CHECK(!d.items[0].mask);
  NECO_CHECK_EQ(d.classCount, 0);
  NECO_CHECK_EQ(openDataset(DatasetKind::Folder, root, "train").items.size(), std::size_t{3});
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::Folder, root, "val"));

  const fs::path none = tmp / "none";
  touch(none / "readme.md");
  const std::string message = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Folder, none, ""); });
  NECO_CHECK(contains(message, none.string()) && contains(message, "no images"));
}

NECO_TEST(ImageDatasets, cocoReadsTrainAndVal2017) {
  TempDir tmp;
  const fs::path root = tmp.path();
  for (const char* name : {"000000000009.jpg", "000000000001.jpg", "000000000005.jpg"}) {
    touch(root / "train2017" / name);
  }
  touch(root / "train2017" / "captions.json");
  const auto train = openDataset(DatasetKind::Coco, root, "train");
  NECO_CHECK(idsOf(train) == (std::vector<std::string>{"000000000001", "000000000005", "000000000009"}));
  NECO_CHECK(!train.items[0].mask && train.classCount == 0);
  NECO_CHECK(train.items[1].image == root / "train2017" / "000000000005.jpg");

  const std::string missing = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Coco, root, "val"); });
  NECO_CHECK(contains(missing, (root / "val2017").string()));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::Coco, root, "test"));
  // The train2017 folder itself is not a COCO root.
  NECO_CHECK_THROWS(neco::FormatError, openDataset(DatasetKind::Coco, root / "train2017", "train"));
}

NECO_TEST(ImageDatasets, imageNet100FollowsItsClassList) {
  TempDir tmp;
  const fs::path root = tmp.path();
  touch(root / "train" / "n02" / "n02_b.JPEG");
  touch(root / "train" / "n02" / "n02_a.JPEG");
  touch(root / "train" / "n01" / "n01_x.JPEG");
  touch(root / "train" / "n03" / "n03_y.JPEG");
  touch(root / "val" / "n01" / "n01_v.JPEG");
  const auto all = openDataset(DatasetKind::ImageNet100, root, "train");
  NECO_CHECK(idsOf(all) == (std::vector<std::string>{"n01/n01_x", "n02/n02_a", "n02/n02_b", "n03/n03_y"}));
  NECO_CHECK(!all.items[0].mask && all.classCount == 0);

  touch(root / "imagenet100.txt", "n02 goldfish\r\n\n  n01\t robin \n");
  const auto listed = openDataset(DatasetKind::ImageNet100, root, "train");
  NECO_CHECK(idsOf(listed) == (std::vector<std::string>{"n01/n01_x", "n02/n02_a", "n02/n02_b"}));
  // A listed class whose folder is missing (val has only n01).
  const std::string missing = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::ImageNet100, root, "val"); });
  NECO_CHECK(contains(missing, (root / "val" / "n02").string()) && contains(missing, "imagenet100.txt"));
  touch(root / "imagenet100.txt", "n01\n../n02\n");
  NECO_CHECK_THROWS(neco::FormatError, openDataset(DatasetKind::ImageNet100, root, "train"));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::ImageNet100, root, "test"));
}

NECO_TEST(ImageDatasets, vocNecoLayoutPairsTrainWithAugmentedMasks) {
  TempDir tmp;
  const fs::path base = tmp / "VOCSegmentation";  // the reference code appends this to data_dir
  for (const char* id : {"2007_000032", "2007_000039", "2008_000002"}) {
    touch(base / "images" / (std::string(id) + ".jpg"));
    touch(base / "SegmentationClass" / (std::string(id) + ".png"));
    touch(base / "SegmentationClassAug" / (std::string(id) + ".png"));
  }
  touch(base / "sets" / "train.txt", "2008_000002\r\n\r\n  2007_000032  \r\n");
  touch(base / "sets" / "trainaug.txt", "2007_000039\n2007_000032\n");
  touch(base / "sets" / "val.txt", "2007_000039\n");
  for (const fs::path& root : {tmp.path(), base}) {  // data_dir or the VOCSegmentation folder itself
    const auto train = openDataset(DatasetKind::Voc, root, "train");
    NECO_CHECK(idsOf(train) == (std::vector<std::string>{"2007_000032", "2008_000002"}));
    NECO_REQUIRE(train.items[0].mask.has_value());
    NECO_CHECK(train.items[0].image == base / "images" / "2007_000032.jpg");
    NECO_CHECK(*train.items[0].mask == base / "SegmentationClassAug" / "2007_000032.png");
    NECO_CHECK_EQ(train.classCount, 21);
    NECO_CHECK_EQ(train.ignoreIndex, 255);
    const auto trainaug = openDataset(DatasetKind::Voc, root, "trainaug");
    NECO_CHECK(*trainaug.items[1].mask == base / "SegmentationClassAug" / "2007_000039.png");
    const auto val = openDataset(DatasetKind::Voc, root, "val");
    NECO_REQUIRE(val.items.size() == 1);
    NECO_CHECK(*val.items[0].mask == base / "SegmentationClass" / "2007_000039.png");
  }
}

NECO_TEST(ImageDatasets, vocStandardLayoutWithoutAugmentedMasks) {
  TempDir tmp;
  const fs::path root = tmp.path();
  makeVoc2012(root, "train", "c\na\nb\n", {"a", "b", "c"});
  const auto train = openDataset(DatasetKind::Voc, root, "train");
  NECO_CHECK(idsOf(train) == (std::vector<std::string>{"a", "b", "c"}));
  NECO_CHECK(sortedByImage(train));
  NECO_CHECK(*train.items[2].mask == root / "SegmentationClass" / "c.png");  // no Aug folder: the plain masks
  NECO_CHECK(train.items[2].image == root / "JPEGImages" / "c.jpg");
  NECO_CHECK_EQ(train.split, "train");
}

NECO_TEST(ImageDatasets, vocErrorsNameThePath) {
  TempDir tmp;
  const fs::path root = tmp.path();
  makeVoc2012(root, "train", "a\nb\n", {"a", "b"});
  const fs::path splits = root / "ImageSets" / "Segmentation";

  // A missing split file.
  std::string m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, (splits / "val.txt").string()));
  // A listed id whose image is missing: the id and the expected path.
  touch(splits / "val.txt", "a\nghost\n");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, "'ghost'") && contains(m, (root / "JPEGImages" / "ghost.jpg").string()));
  // A listed id whose mask is missing: both paths.
  touch(root / "JPEGImages" / "nomask.jpg");
  touch(splits / "val.txt", "nomask\n");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, (root / "SegmentationClass" / "nomask.png").string()));
  NECO_CHECK(contains(m, (root / "JPEGImages" / "nomask.jpg").string()));
  // An empty split, a path in an id, a duplicate id.
  touch(splits / "val.txt", "\n \r\n");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, (splits / "val.txt").string()) && contains(m, "no images"));
  touch(splits / "val.txt", "a\n../../etc/passwd\n");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, "line 2"));
  touch(splits / "val.txt", "a\nb\na\n");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, root, "val"); });
  NECO_CHECK(contains(m, "line 3") && contains(m, "twice"));
  // Not a split name, not a VOC folder.
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::Voc, root, ""));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::Voc, root, "../train"));
  const fs::path other = tmp / "other";
  touch(other / "x.jpg");
  m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Voc, other, "train"); });
  NECO_CHECK(contains(m, other.string()) && contains(m, "JPEGImages"));
}

NECO_TEST(ImageDatasets, demoDatasetOpensAsVoc) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  neco::DemoDatasetOptions o;
  o.trainCount = 4, o.valCount = 2, o.minSide = 64, o.maxSide = 96;
  const auto summary = neco::writeDemoDataset(tmp / "demo", o);
  const auto train = openDataset(DatasetKind::Demo, summary.root, "");
  NECO_CHECK_EQ(train.split, "train");
  NECO_CHECK(idsOf(train) == (std::vector<std::string>{"demo_000000", "demo_000001", "demo_000002", "demo_000003"}));
  NECO_CHECK_EQ(train.classCount, static_cast<int>(neco::demoClassNames().size()));
  NECO_CHECK_EQ(train.classCount, 7);
  NECO_CHECK_EQ(train.ignoreIndex, 255);
  NECO_REQUIRE(train.items[0].mask.has_value());
  NECO_CHECK(*train.items[0].mask == summary.masksDir / "demo_000000.png");
  const auto val = openDataset(DatasetKind::Demo, summary.root, "val");
  NECO_CHECK(idsOf(val) == (std::vector<std::string>{"demo_000004", "demo_000005"}));
  NECO_CHECK_EQ(openDataset(DatasetKind::Demo, summary.root, "trainval").items.size(), std::size_t{6});
  NECO_CHECK_EQ(openDataset(DatasetKind::Voc, summary.root, "train").classCount, 21);
}

NECO_TEST(ImageDatasets, ade20kPairsImagesWithAnnotations) {
  TempDir tmp;
  const fs::path root = tmp / "ADEChallengeData2016";
  for (const char* stem : {"ADE_train_00000002", "ADE_train_00000001"}) {
    touch(root / "images" / "training" / (std::string(stem) + ".jpg"));
    touch(root / "annotations" / "training" / (std::string(stem) + ".png"));
  }
  touch(root / "images" / "validation" / "ADE_val_00000001.jpg");
  touch(root / "annotations" / "validation" / "ADE_val_00000001.png");
  const auto train = openDataset(DatasetKind::Ade20k, root, "train");
  NECO_CHECK(idsOf(train) == (std::vector<std::string>{"ADE_train_00000001", "ADE_train_00000002"}));
  NECO_CHECK(*train.items[1].mask == root / "annotations" / "training" / "ADE_train_00000002.png");
  NECO_CHECK_EQ(train.classCount, 151);
  NECO_CHECK_EQ(train.ignoreIndex, 0);
  NECO_CHECK_EQ(openDataset(DatasetKind::Ade20k, root, "val").items.size(), std::size_t{1});

  touch(root / "images" / "training" / "ADE_train_00000003.jpg");  // no annotation
  const std::string m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Ade20k, root, "train"); });
  NECO_CHECK(contains(m, (root / "annotations" / "training" / "ADE_train_00000003.png").string()));
  NECO_CHECK(contains(m, (root / "images" / "training" / "ADE_train_00000003.jpg").string()));
  const std::string folder = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Ade20k, tmp.path(), "val"); });
  NECO_CHECK(contains(folder, (tmp.path() / "images" / "validation").string()));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openDataset(DatasetKind::Ade20k, root, "training"));
}

NECO_TEST(ImageDatasets, cityscapesPairsLeftImagesWithLabelIds) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const auto add = [&](const std::string& city, const std::string& prefix) {
    touch(root / "leftImg8bit" / "train" / city / (prefix + "_leftImg8bit.png"));
    touch(root / "gtFine" / "train" / city / (prefix + "_gtFine_labelIds.png"));
    touch(root / "gtFine" / "train" / city / (prefix + "_gtFine_color.png"));
  };
  add("bochum", "bochum_000000_000313");
  add("aachen", "aachen_000001_000019");
  add("aachen", "aachen_000000_000019");
  touch(root / "leftImg8bit" / "train" / "aachen" / "notes.png");  // not *_leftImg8bit.png: ignored
  const auto train = openDataset(DatasetKind::Cityscapes, root, "train");
  NECO_CHECK(idsOf(train) == (std::vector<std::string>{"aachen/aachen_000000_000019", "aachen/aachen_000001_000019",
                                                       "bochum/bochum_000000_000313"}));
  NECO_CHECK(*train.items[2].mask == root / "gtFine" / "train" / "bochum" / "bochum_000000_000313_gtFine_labelIds.png");
  NECO_CHECK_EQ(train.classCount, 19);
  NECO_CHECK_EQ(train.ignoreIndex, 255);

  fs::remove(root / "gtFine" / "train" / "bochum" / "bochum_000000_000313_gtFine_labelIds.png");
  const std::string m = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Cityscapes, root, "train"); });
  NECO_CHECK(contains(m, "bochum_000000_000313_gtFine_labelIds.png") &&
             contains(m, "bochum_000000_000313_leftImg8bit"));
  const std::string val = messageOf<neco::FormatError>([&] { openDataset(DatasetKind::Cityscapes, root, "val"); });
  NECO_CHECK(contains(val, (root / "leftImg8bit" / "val").string()));
}

NECO_TEST(ImageDatasets, cityscapesTrainIds) {
  const auto table = neco::data::cityscapesLabelIdToTrainId();
  const int evaluated[] = {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33};
  int mapped = 0;
  for (int id = 0; id < 256; ++id) {
    if (table[id] != 255) ++mapped;
  }
  NECO_CHECK_EQ(mapped, 19);
  for (int train = 0; train < 19; ++train) NECO_CHECK_EQ(int(table[evaluated[train]]), train);
  NECO_CHECK_EQ(int(table[0]), 255);
  NECO_CHECK_EQ(int(table[255]), 255);
  NECO_CHECK_EQ(int(table[34]), 255);
}

NECO_TEST(ImageDatasets, missingRootIsAnIoErrorNamingIt) {
  TempDir tmp;
  const fs::path missing = tmp / "nowhere";
  for (DatasetKind k : {DatasetKind::Folder, DatasetKind::Coco, DatasetKind::Voc, DatasetKind::Cityscapes}) {
    const std::string m = messageOf<neco::IoError>([&] { openDataset(k, missing, "train"); });
    NECO_CHECK(contains(m, missing.string()));
  }
  touch(tmp / "file.jpg");
  NECO_CHECK_THROWS(neco::IoError, openDataset(DatasetKind::Folder, tmp / "file.jpg", ""));
}
