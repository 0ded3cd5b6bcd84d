#pragma once
// Reader of torch.save checkpoints (`.pth`, `.pt`, Lightning `.ckpt`) without LibTorch and without
// running the pickle: the zip container (torch >= 1.6) through ZipArchive, the legacy stream format
// (torch < 1.6, or _use_new_zipfile_serialization=False) directly, and the data.pkl program through
// the restricted unpickler. Tensors point into the file's bytes (normally a read-only mapping).
//
//   zip:    <root>/data.pkl, <root>/data/<key> (one record per storage), <root>/version,
//           [<root>/byteorder], [<root>/.data/serialization_id]; <root> is "archive" or the file stem
//   legacy: pickles of the magic number, protocol 1001, sys_info and the object, a pickled list of
//           storage keys, then per key an int64 element count and the raw little-endian elements
//   both:   a storage is the persistent id ('storage', torch.<Type>Storage, key, location, numel[, view])

#include "formats/Pickle.h"

#include <filesystem>
#include <string>
#include <vector>

namespace neco::formats {

struct TorchCheckpoint {
  PickleValuePtr root;    ///< the object passed to torch.save
  UnpickleReport report;  ///< e.g. the Opaque types met (argparse.Namespace, ...)
  std::string format;     ///< "torch zip (archive 'archive')" or "torch legacy"
};

/// Sniffs the legacy format's magic number pickle at the start of the file; no validation.
bool looksLikeTorchLegacy(const ByteView& file) noexcept;

/// Parses a torch.save file held in `file` (zip or legacy); tensors share `file`'s owner.
/// Throws FormatError(source, reason) when the container is malformed (see ZipArchive::parse), there
/// is not exactly one <root>/data.pkl, data.pkl's CRC does not match, a storage record is missing,
/// its byte size is not exactly numel x element size, one key is used with two element types, a
/// legacy storage's element count disagrees with its persistent id, or the pickle is malformed
/// (see unpickle). Storage records' CRCs are not read (gigabytes); ZipArchive::crcMatches does that.
/// Throws UnsupportedError for a big-endian checkpoint, a TorchScript archive (torch.jit.save), a
/// deflated record, a refused opcode or global (`os.system`, ...), or an unknown storage type.
TorchCheckpoint parseTorchCheckpoint(const ByteView& file, const std::filesystem::path& source);

/// mapFile(path) + parseTorchCheckpoint. Also throws IoError when the file cannot be read.
TorchCheckpoint readTorchCheckpoint(const std::filesystem::path& path);

struct StateDict {
  std::string path;    ///< keys from the root joined by '.': "" (the root), "state_dict", "teacher", ...
  TensorList tensors;  ///< in the dict's order
};

/// Every dict reachable from `root` through string keys (of dicts and of Opaque objects' dict
/// entries) at depth <= 4 whose keys are all strings and whose values are all tensors (at least one),
/// in depth-first order of the keys. A state dict's own values are not searched further, and a dict
/// reached twice (shared through the memo) is reported once. Never throws except std::bad_alloc.
std::vector<StateDict> findStateDicts(const PickleValue& root);

}  // namespace neco::formats
