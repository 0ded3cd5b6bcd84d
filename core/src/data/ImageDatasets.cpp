// Lists the items of each dataset layout: directory walks and split files only, no pixels.

#include "data/ImageDatasets.h"

#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <system_error>

namespace neco::data {
namespace {

namespace fs = std::filesystem;

// Split and class-list files are a few hundred KB at most; anything far larger is not one.
constexpr std::uintmax_t kMaxListFileBytes = 64ull * 1024 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool hasImageExtension(const fs::path& file) {
  const std::string ext = lower(file.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

bool isFolder(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool isFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

void requireRoot(const fs::path& root) {
  std::error_code ec;
  const fs::file_status status = fs::status(root, ec);
  if (ec || !fs::exists(status)) throw IoError(root, "dataset folder does not exist");
  if (!fs::is_directory(status)) throw IoError(root, "dataset path is not a folder");
}

void requireFolder(const fs::path& folder, const std::string& layout) {
  if (!isFolder(folder)) throw FormatError(folder, "missing folder (" + layout + ")");
}

[[noreturn]] void badSplit(DatasetKind kind, const std::string& split, const std::string& valid) {
  throw InvalidArgumentError(std::string(datasetKindName(kind)) + " dataset has no split '" + split +
                             "' (valid: " + valid + ")");
}

// Regular files directly in `folder` (or below it when `recursive`) accepted by `keep`. Hidden entries
// (name starting with '.') are skipped: they are never dataset images (e.g. macOS "._x.jpg" forks).
std::vector<fs::path> listFiles(const fs::path& folder, bool recursive,
                                const std::function<bool(const fs::path&)>& keep) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto visit = [&](const fs::directory_entry& entry) {
    std::error_code statError;
    if (entry.is_regular_file(statError) && keep(entry.path())) files.push_back(entry.path());
  };
  if (recursive) {
    fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().rfind('.', 0) == 0) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        ec.clear();
        continue;
      }
      visit(*it);
    }
  } else {
    fs::directory_iterator it(folder, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().rfind('.', 0) != 0) visit(*it);
    }
  }
  if (ec) throw IoError(folder, "cannot list the folder: " + ec.message());
  return files;
}

std::vector<fs::path> listImages(const fs::path& folder) {
  return listFiles(folder, false, hasImageExtension);
}

std::vector<fs::path> listSubfolders(const fs::path& folder) {
  std::vector<fs::path> folders;
  std::error_code ec;
  fs::directory_iterator it(folder, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code statError;
    if (it->is_directory(statError) && it->path().filename().string().rfind('.', 0) != 0) {
      folders.push_back(it->path());
    }
  }
  if (ec) throw IoError(folder, "cannot list the folder: " + ec.message());
  std::sort(folders.begin(), folders.end());
  return folders;
}

std::string trim(const std::string& s) {
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  const auto b = std::find_if_not(s.begin(), s.end(), space);
  const auto e = std::find_if_not(s.rbegin(), s.rend(), space).base();
  return b < e ? std::string(b, e) : std::string();
}

// A name from a list file that will become part of a path: one plain path element, nothing else.
bool isPlainName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  return std::none_of(name.begin(), name.end(),
                      [](unsigned char c) { return c == '/' || c == '\\' || c == 0 || std::isspace(c) != 0; });
}

// The first word of every non-blank line (CR, spaces, tabs trimmed), each a plain, unique name.
std::vector<std::string> readNameList(const fs::path& file, bool firstWordOnly) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw IoError(file, "cannot read: " + ec.message());
  if (size > kMaxListFileBytes)
    throw FormatError(file, "too large for a list file (" + std::to_string(size) + " bytes)");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError(file, "cannot open for reading");
  std::vector<std::string> names;
  std::set<std::string> seen;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string name = trim(line);
    if (name.empty()) continue;
    if (firstWordOnly) name = name.substr(0, name.find_first_of(" \t"));
    const std::string at = "line " + std::to_string(number) + ": ";
    if (!isPlainName(name)) throw FormatError(file, at + "invalid name '" + name.substr(0, 80) + "'");
    if (!seen.insert(name).second) throw FormatError(file, at + "'" + name + "' is listed twice");
    names.push_back(std::move(name));
  }
  if (in.bad()) throw IoError(file, "read failed");
  return names;
}

void sortAndRequireItems(ImageDataset& dataset, const fs::path& folder, const std::string& expected) {
  if (dataset.items.empty()) throw FormatError(folder, "no images found (expected " + expected + ")");
  std::sort(dataset.items.begin(), dataset.items.end(),
            [](const DatasetItem& a, const DatasetItem& b) { return a.image < b.image; });
}

DatasetItem labelledItem(std::string id, fs::path image, fs::path mask) {
  if (!isFile(mask)) {
    throw FormatError(mask, "the mask of image " + image.string() + " is missing (expected at this path)");
  }
  return {std::move(id), std::move(image), std::move(mask)};
}

void openFolder(ImageDataset& d) {
  if (!d.split.empty() && d.split != "train") badSplit(d.kind, d.split, "\"\" or train");
  for (fs::path& image : listFiles(d.root, true, hasImageExtension)) {
    d.items.push_back({image.lexically_relative(d.root).generic_string(), std::move(image), std::nullopt});
  }
  sortAndRequireItems(d, d.root, ".jpg, .jpeg or .png files below the folder");
}

void openCoco(ImageDataset& d) {
  if (d.split != "train" && d.split != "val") badSplit(d.kind, d.split, "train, val");
  const fs::path folder = d.root / (d.split + "2017");
  requireFolder(folder, "COCO layout: <root>/" + d.split + "2017/*.jpg");
  for (fs::path& image : listImages(folder)) d.items.push_back({image.stem().string(), std::move(image), std::nullopt});
  sortAndRequireItems(d, folder, "*.jpg");
}

void openImageNet100(ImageDataset& d) {
  if (d.split != "train" && d.split != "val") badSplit(d.kind, d.split, "train, val");
  const fs::path folder = d.root / d.split;
  requireFolder(folder, "ImageNet-100 layout: <root>/" + d.split + "/<wnid>/*.JPEG");
  std::vector<fs::path> classFolders;
  const fs::path classList = d.root / "imagenet100.txt";
  if (isFile(classList)) {
    for (const std::string& wnid : readNameList(classList, /*firstWordOnly=*/true)) {
      const fs::path classFolder = folder / wnid;
      if (!isFolder(classFolder))
        throw FormatError(classFolder, "class listed in " + classList.string() + " is missing");
      classFolders.push_back(classFolder);
    }
  } else {
    classFolders = listSubfolders(folder);
  }
  for (const fs::path& classFolder : classFolders) {
    const std::string wnid = classFolder.filename().string();
    for (fs::path& image : listImages(classFolder)) {
      d.items.push_back({wnid + "/" + image.stem().string(), std::move(image), std::nullopt});
    }
  }
  sortAndRequireItems(d, folder, "<wnid>/*.JPEG");
}

void openVoc(ImageDataset& d) {
  if (!isPlainName(d.split)) badSplit(d.kind, d.split, "the name of a split file, e.g. train, trainaug, val");
  // The reference code appends VOCSegmentation to its data_dir; other tools pass that folder itself.
  const fs::path base = isFolder(d.root / "VOCSegmentation") ? d.root / "VOCSegmentation" : d.root;
  fs::path images, splits;
  if (isFolder(base / "images")) {
    images = base / "images", splits = base / "sets";  // NeCo's layout
  } else if (isFolder(base / "JPEGImages")) {
    images = base / "JPEGImages", splits = base / "ImageSets" / "Segmentation";  // VOC 2012
  } else {
    throw FormatError(d.root,
                      "not a Pascal VOC folder: neither [VOCSegmentation/]images/ (NeCo layout) nor "
                      "JPEGImages/ (VOC 2012 layout) exists");
  }
  const fs::path splitFile = splits / (d.split + ".txt");
  if (!isFile(splitFile)) throw FormatError(splitFile, "split file of split '" + d.split + "' is missing");
  // Reference behaviour: every "train*" split reads the augmented masks when they exist.
  const bool trainSplit = d.split.rfind("train", 0) == 0;
  const fs::path masks = trainSplit && isFolder(base / "SegmentationClassAug") ? base / "SegmentationClassAug"
                                                                               : base / "SegmentationClass";
  requireFolder(masks, "Pascal VOC layout: the masks of split '" + d.split + "'");
  for (const std::string& id : readNameList(splitFile, /*firstWordOnly=*/false)) {
    fs::path image = images / (id + ".jpg");
    if (!isFile(image)) {
      throw FormatError(image, "image of id '" + id + "' listed in " + splitFile.string() + " is missing");
    }
    d.items.push_back(labelledItem(id, std::move(image), masks / (id + ".png")));
  }
  sortAndRequireItems(d, splitFile, "ids, one per line");
}

void openAde20k(ImageDataset& d) {
  if (d.split != "train" && d.split != "val") badSplit(d.kind, d.split, "train, val");
  const std::string sub = d.split == "train" ? "training" : "validation";
  const fs::path images = d.root / "images" / sub, masks = d.root / "annotations" / sub;
  requireFolder(images, "ADE20K layout: <ADEChallengeData2016>/images/" + sub + "/*.jpg");
  requireFolder(masks, "ADE20K layout: <ADEChallengeData2016>/annotations/" + sub + "/*.png");
  for (fs::path& image : listImages(images)) {
    const std::string stem = image.stem().string();
    d.items.push_back(labelledItem(stem, std::move(image), masks / (stem + ".png")));
  }
  sortAndRequireItems(d, images, "*.jpg");
}

void openCityscapes(ImageDataset& d) {
  if (d.split != "train" && d.split != "val") badSplit(d.kind, d.split, "train, val");
  static const std::string kImageSuffix = "_leftImg8bit.png";
  const fs::path images = d.root / "leftImg8bit" / d.split, masks = d.root / "gtFine" / d.split;
  requireFolder(images, "Cityscapes layout: leftImg8bit/" + d.split + "/<city>/*" + kImageSuffix);
  requireFolder(masks, "Cityscapes layout: gtFine/" + d.split + "/<city>/*_gtFine_labelIds.png");
  const auto isCityImage = [](const fs::path& p) {
    const std::string name = p.filename().string();
    return name.size() > kImageSuffix.size() &&
           name.compare(name.size() - kImageSuffix.size(), kImageSuffix.size(), kImageSuffix) == 0;
  };
  for (const fs::path& cityFolder : listSubfolders(images)) {
    const std::string city = cityFolder.filename().string();
    for (fs::path& image : listFiles(cityFolder, false, isCityImage)) {
      const std::string name = image.filename().string();
      const std::string prefix = name.substr(0, name.size() - kImageSuffix.size());
      d.items.push_back(
          labelledItem(city + "/" + prefix, std::move(image), masks / city / (prefix + "_gtFine_labelIds.png")));
    }
  }
  sortAndRequireItems(d, images, "<city>/*" + kImageSuffix);
}

}  // namespace

DatasetKind datasetKindFromName(std::string_view name) {
  const std::string n = lower(name);
  if (n == "folder") return DatasetKind::Folder;
  if (n == "coco") return DatasetKind::Coco;
  if (n == "imagenet100k" || n == "imagenet100") return DatasetKind::ImageNet100;
  if (n == "voc") return DatasetKind::Voc;
  if (n == "ade20k") return DatasetKind::Ade20k;
  if (n == "cityscapes") return DatasetKind::Cityscapes;
  if (n == "demo") return DatasetKind::Demo;
  throw InvalidArgumentError("unknown dataset '" + std::string(name) +
                             "' (valid: folder, coco, imagenet100k, imagenet100, voc, ade20k, cityscapes, demo)");
}

const char* datasetKindName(DatasetKind kind) noexcept {
  switch (kind) {
    case DatasetKind::Folder:
      return "folder";
    case DatasetKind::Coco:
      return "coco";
    case DatasetKind::ImageNet100:
      return "imagenet100";
    case DatasetKind::Voc:
      return "voc";
    case DatasetKind::Ade20k:
      return "ade20k";
    case DatasetKind::Cityscapes:
      return "cityscapes";
    case DatasetKind::Demo:
      return "demo";
  }
  return "unknown";
}

ImageDataset openDataset(DatasetKind kind, const std::filesystem::path& root, const std::string& split) {
  ImageDataset d;
  d.kind = kind;
  d.root = root;
  d.split = kind == DatasetKind::Demo && split.empty() ? "train" : split;
  requireRoot(root);
  switch (kind) {
    case DatasetKind::Folder:
      openFolder(d);
      break;
    case DatasetKind::Coco:
      openCoco(d);
      break;
    case DatasetKind::ImageNet100:
      openImageNet100(d);
      break;
    case DatasetKind::Voc:
      openVoc(d);
      d.classCount = 21;
      break;
    case DatasetKind::Demo:
      openVoc(d);
      d.classCount = static_cast<int>(demoClassNames().size());
      break;
    case DatasetKind::Ade20k:
      openAde20k(d);
      d.classCount = 151;
      d.ignoreIndex = 0;
      break;
    case DatasetKind::Cityscapes:
      openCityscapes(d);
      d.classCount = 19;
      break;
  }
  return d;
}

std::array<std::uint8_t, 256> cityscapesLabelIdToTrainId() noexcept {
  static constexpr std::uint8_t kEvaluatedLabelIds[19] = {7,  8,  11, 12, 13, 17, 19, 20, 21, 22,
                                                          23, 24, 25, 26, 27, 28, 31, 32, 33};
  std::array<std::uint8_t, 256> table;
  table.fill(255);
  for (std::uint8_t trainId = 0; trainId < 19; ++trainId) table[kEvaluatedLabelIds[trainId]] = trainId;
  return table;
}

}  // namespace neco::data
