// The malformed-input corpus of RELIABILITY.md (promise 3): every committed file under
// $NECO_TEST_DATA_DIR/malformed/<format>/ must give its typed error, with a message that names the
// file and the defect. One table of cases and one NECO_TEST per format; the shared runner below
// also fails when a corpus file has no case, so a new file cannot go untested.
//
// Regenerate the safetensors files with tests/data/malformed/make_safetensors_corpus.py.
#include "NecoTest.h"
#include "formats/Safetensors.h"
#include "formats/TorchArchive.h"
#include "neco/core/Error.h"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace {

/// The typed error a malformed file must produce.
enum class ExpectedError { Format, Unsupported, Io, InvalidArgument };

struct MalformedCase {
  const char* file;  ///< name inside malformed/<format>/
  ExpectedError error;
  const char* messagePart;  ///< a substring the message must contain (besides the file path)
};

const char* errorName(ExpectedError e) {
  switch (e) {
    case ExpectedError::Format:
      return "FormatError";
    case ExpectedError::Unsupported:
      return "UnsupportedError";
    case ExpectedError::Io:
      return "IoError";
    case ExpectedError::InvalidArgument:
      return "InvalidArgumentError";
  }
  return "?";
}

/// Runs `load` on the file and describes what happened: "<ErrorType>: <message>" or "no error".
/// Anything that is not a neco::Error escapes, which the harness reports as a failure.
std::string describeOutcome(const std::function<void(const std::filesystem::path&)>& load,
                            const std::filesystem::path& file) {
  try {
    load(file);
  } catch (const neco::FormatError& e) {
    return std::string("FormatError: ") + e.what();
  } catch (const neco::UnsupportedError& e) {
    return std::string("UnsupportedError: ") + e.what();
  } catch (const neco::IoError& e) {
    return std::string("IoError: ") + e.what();
  } catch (const neco::InvalidArgumentError& e) {
    return std::string("InvalidArgumentError: ") + e.what();
  } catch (const neco::Error& e) {
    return std::string("neco::Error: ") + e.what();
  }
  return "no error";
}

/// Checks every case of `cases` against malformed/<format>/ and that the folder holds no file
/// without a case. Skips when NECO_TEST_DATA_DIR is unset (the executable run by hand).
void runMalformedCorpus(const std::string& format, const std::vector<MalformedCase>& cases,
                        const std::function<void(const std::filesystem::path&)>& load) {
  const char* dataDir = std::getenv("NECO_TEST_DATA_DIR");
  if (dataDir == nullptr || *dataDir == '\0') NECO_SKIP("NECO_TEST_DATA_DIR is not set (run through ctest)");
  const std::filesystem::path dir = std::filesystem::path(dataDir) / "malformed" / format;
  NECO_REQUIRE(std::filesystem::is_directory(dir));

  std::set<std::string> covered;
  for (const MalformedCase& c : cases) {
    covered.insert(c.file);
    const std::filesystem::path file = dir / c.file;
    if (!std::filesystem::is_regular_file(file)) {
      neco::test::reportFailure(__FILE__, __LINE__, "missing corpus file " + file.string());
      continue;
    }
    const std::string got = describeOutcome(load, file);
    const std::string expectedStart = std::string(errorName(c.error)) + ": ";
    const bool typeOk = got.rfind(expectedStart, 0) == 0;
    const bool namesFile = got.find(file.string()) != std::string::npos;
    const bool reasonOk = got.find(c.messagePart) != std::string::npos;
    if (!typeOk || !namesFile || !reasonOk) {
      neco::test::reportFailure(__FILE__, __LINE__,
                                std::string(c.file) + ": expected " + errorName(c.error) +
                                    " naming the file and containing '" + c.messagePart + "', got " + got);
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (covered.count(entry.path().filename().string()) == 0) {
      neco::test::reportFailure(__FILE__, __LINE__, "corpus file without a test case: " + entry.path().string());
    }
  }
}

// ---- safetensors ------------------------------------------------------------------------------

const std::vector<MalformedCase> kSafetensorsCases = {
    {"zero-byte-file.safetensors", ExpectedError::Format, "file is 0 bytes"},
    {"7-byte-file.safetensors", ExpectedError::Format, "file is 7 bytes"},
    {"truncated-header.safetensors", ExpectedError::Format, "header length 64 runs past the end of the 20-byte file"},
    {"header-claims-1e12-bytes.safetensors", ExpectedError::Format, "header length 1000000000000 exceeds the limit"},
    {"header-length-past-eof.safetensors", ExpectedError::Format, "header length 1000 runs past the end"},
    {"not-json.safetensors", ExpectedError::Format, "header is not valid JSON"},
    {"json-array.safetensors", ExpectedError::Format, "header does not start with '{'"},
    {"invalid-utf8-header.safetensors", ExpectedError::Format, "header is not valid JSON"},
    {"overflowing-shape-product.safetensors", ExpectedError::Format,
     "tensor 't': shape (4294967296, 4294967296, 4294967296) overflows"},
    {"negative-shape.safetensors", ExpectedError::Format, "tensor 't': shape holds the negative number -1"},
    {"overlapping-offsets.safetensors", ExpectedError::Format,
     "tensor 'b': data_offsets [4, 12] overlap another tensor"},
    {"non-contiguous-hole.safetensors", ExpectedError::Format, "tensor 'b': data_offsets [8, 12] leave a hole"},
    {"trailing-bytes.safetensors", ExpectedError::Format, "(16 trailing bytes)"},
    {"duplicate-keys.safetensors", ExpectedError::Format, "key 'w' appears twice"},
    {"unknown-dtype.safetensors", ExpectedError::Format, "tensor 't': unknown dtype 'F17'"},
    {"unsupported-dtype-f8.safetensors", ExpectedError::Unsupported, "tensor 't': dtype F8_E4M3 is not supported"},
    {"end-before-begin.safetensors", ExpectedError::Format, "tensor 'b': data_offsets [8, 4] end before they begin"},
    {"size-mismatch.safetensors", ExpectedError::Format,
     "tensor 'blocks.0.attn.qkv.weight': data_offsets [0, 96] hold 96 bytes but F32 (4, 8) needs 128"},
    {"metadata-not-strings.safetensors", ExpectedError::Format,
     "__metadata__ value of 'epoch' is a number, not a string"},
};

}  // namespace

NECO_TEST(MalformedCorpus, safetensors) {
  runMalformedCorpus("safetensors", kSafetensorsCases,
                     [](const std::filesystem::path& file) { (void)neco::formats::readSafetensors(file); });
}

// ---- further formats (zip, pickle, torch archives) are appended below ---------------------------

// ---- torch checkpoints: zip container + pickle ---------------------------------------------------
// Regenerate with tests/data/malformed/make_torch_corpus.py (python3-torch 1.13).
namespace {

const std::vector<MalformedCase> kTorchCases = {
    {"os-system.pth", ExpectedError::Unsupported,
     "unsupported object `posix.system` in pickle (only state-dict contents are loaded; nothing in a checkpoint is "
     "executed)"},
    {"builtins-eval.pth", ExpectedError::Unsupported, "unsupported object `builtins.eval` in pickle"},
    {"getattr-gadget.pth", ExpectedError::Unsupported, "unsupported object `builtins.getattr` in pickle"},
    {"zip-bomb-deflated.pth", ExpectedError::Unsupported,
     "zip entry 'archive/data/0' is deflated (method 8): deflated entries are refused"},
    {"storage-size-mismatch.pth", ExpectedError::Format,
     "zip entry 'archive/data/0': storage of 6 F32 elements needs 24 bytes but the record has 20"},
    {"storage-record-missing.pth", ExpectedError::Format, "storage '1' has no record 'archive/data/1'"},
    {"view-exceeds-storage.pth", ExpectedError::Format,
     "tensor view exceeds its storage: view needs 48 bytes but its storage has 24"},
    {"dotdot-entry-name.pth", ExpectedError::Format, "zip entry '../evil.sh': name escapes the archive ('..' component)"},
    {"absolute-entry-name.pth", ExpectedError::Format, "zip entry '/etc/cron.d/evil': absolute name"},
    {"duplicate-entry-name.pth", ExpectedError::Format, "zip entry 'archive/data/0': appears twice"},
    {"truncated-half.pth", ExpectedError::Format, "no zip end-of-central-directory record"},
    {"legacy-truncated.pth", ExpectedError::Format, "truncated"},
    {"bad-crc-pickle.pth", ExpectedError::Format, "zip entry 'archive/data.pkl': CRC mismatch"},
    {"unknown-opcode.pth", ExpectedError::Unsupported, "unsupported pickle opcode unknown (byte 0xff) at offset 3"},
    {"ext1-opcode.pth", ExpectedError::Unsupported, "unsupported pickle opcode EXT1 (byte 0x82) at offset 2"},
    {"deep-nesting.pth", ExpectedError::Format, "containers nested deeper than 1000 levels"},
    {"huge-binunicode-length.pth", ExpectedError::Format, "argument of 4294967280 bytes but only 4 remain"},
    {"memo-self-reference.pth", ExpectedError::Format, "a container would contain itself"},
    {"pickle-without-stop.pth", ExpectedError::Format, "without STOP"},
    {"not-a-checkpoint.pth", ExpectedError::Format, "not a torch checkpoint"},
    {"torchscript.pt", ExpectedError::Unsupported, "a TorchScript archive (torch.jit.save)"},
};

}  // namespace

NECO_TEST(MalformedCorpus, pickleAndZip) {
  // The malicious pickles would create this file if anything in them ran.
  const std::filesystem::path marker = "/tmp/neco-pwned-by-pickle";
  std::error_code ignored;
  std::filesystem::remove(marker, ignored);
  runMalformedCorpus("torch", kTorchCases,
                     [](const std::filesystem::path& file) { (void)neco::formats::readTorchCheckpoint(file); });
  NECO_CHECK(!std::filesystem::exists(marker));
}
