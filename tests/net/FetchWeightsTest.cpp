// fetchWeights against a loopback HTTP server: full download, resume with Range, truncated and
// corrupted transfers, checksums (option, server header, zip CRC-32), HTTP errors, offline, cancel,
// progress, and the registry itself. Nothing here touches the internet.
#include "LoopbackHttpServer.h"
#include "NecoTest.h"
#include "TestFiles.h"
#include "formats/Sha256.h"
#include "neco/core/Weights.h"

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using neco::test::Bytes;

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v & 0xFFFF);
  put16(b, v >> 16);
}

/// A small zip laid out like torch.save's (stored entries under `archive/`), with correct CRC-32s.
Bytes makeTorchZip(std::size_t payloadBytes) {
  Bytes payload(payloadBytes);
  std::uint32_t state = 12345;
  for (auto& byte : payload) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  const std::string pickle = "\x80\x02}q\x00.";  // an empty dict: enough for a container test
  const std::vector<std::pair<std::string, Bytes>> entries = {{"archive/data.pkl", Bytes(pickle.begin(), pickle.end())},
                                                              {"archive/data/0", payload},
                                                              {"archive/version", Bytes{'3', '\n'}}};
  Bytes zip, central;
  for (const auto& [name, data] : entries) {
    const std::uint32_t crc = neco::formats::crc32(data.data(), data.size());
    const auto offset = static_cast<std::uint32_t>(zip.size());
    const auto size = static_cast<std::uint32_t>(data.size());
    put32(zip, 0x04034b50);
    put16(zip, 20), put16(zip, 0), put16(zip, 0), put16(zip, 0), put16(zip, 0);
    put32(zip, crc), put32(zip, size), put32(zip, size);
    put16(zip, static_cast<std::uint32_t>(name.size())), put16(zip, 0);
    zip.insert(zip.end(), name.begin(), name.end());
    zip.insert(zip.end(), data.begin(), data.end());
    put32(central, 0x02014b50);
    put16(central, 20), put16(central, 20), put16(central, 0), put16(central, 0), put16(central, 0), put16(central, 0);
    put32(central, crc), put32(central, size), put32(central, size);
    put16(central, static_cast<std::uint32_t>(name.size())), put16(central, 0), put16(central, 0);
    put16(central, 0), put16(central, 0), put32(central, 0), put32(central, offset);
    central.insert(central.end(), name.begin(), name.end());
  }
  const auto centralOffset = static_cast<std::uint32_t>(zip.size());
  zip.insert(zip.end(), central.begin(), central.end());
  put32(zip, 0x06054b50);
  put16(zip, 0), put16(zip, 0), put16(zip, 3), put16(zip, 3);
  put32(zip, static_cast<std::uint32_t>(central.size())), put32(zip, centralOffset), put16(zip, 0);
  return zip;
}

const Bytes& checkpoint() {
  static const Bytes bytes = makeTorchZip(300 * 1024);
  return bytes;
}

std::string sha256Of(const Bytes& b) {
  return neco::formats::sha256Hex(b.data(), b.size());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Downloads must reach the loopback server directly, whatever proxy the environment names.
void requireDownloads() {
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  if (!neco::canDownloadWeights()) NECO_SKIP("this build has no HTTP client (libcurl)");
}

neco::FetchOptions optionsFor(const neco::test::TempDir& cache, const std::string& url) {
  neco::FetchOptions o;
  o.cacheDir = cache.path();
  o.url = url;
  o.connectTimeoutSeconds = 5;
  o.stallTimeoutSeconds = 10;
  return o;
}

/// Runs `f`, expecting an exception of type E; returns its message ("" and a failure otherwise).
template <typename E, typename F>
std::string messageOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    neco::test::reportFailure(__FILE__, __LINE__, std::string("wrong exception type: ") + e.what());
    return {};
  }
  neco::test::reportFailure(__FILE__, __LINE__, "no exception");
  return {};
}

fs::path withSuffix(const fs::path& p, const std::string& suffix) {
  return fs::path(p.string() + suffix);
}

}  // namespace

NECO_TEST(FetchWeights, downloadsVerifiesAndReusesTheFile) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/w/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchOptions o = optionsFor(cache, server.url("/w/ckpt.pth"));

  const neco::FetchResult r = neco::fetchWeights("dinov2_vits14", o);
  NECO_CHECK(r.file == cache.path() / "dinov2_vits14.pth");
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());
  NECO_CHECK_EQ(r.bytes, checkpoint().size());
  NECO_CHECK_EQ(r.sha256, sha256Of(checkpoint()));
  NECO_CHECK(!r.alreadyPresent && !r.resumed);
  NECO_CHECK(contains(r.verifiedBy, "zip CRC-32"));
  NECO_CHECK(!fs::exists(withSuffix(r.file, ".part")));
  const Bytes sidecar = neco::test::readBytes(withSuffix(r.file, ".sha256"));
  NECO_CHECK_EQ(std::string(sidecar.begin(), sidecar.end()), r.sha256 + "  dinov2_vits14.pth\n");
  NECO_CHECK(neco::weightsCachePath("dinov2_vits14", cache.path()) == r.file);

  const std::size_t requests = server.requests().size();
  const neco::FetchResult again = neco::fetchWeights("dinov2_vits14", o);
  NECO_CHECK(again.alreadyPresent);
  NECO_CHECK(again.file == r.file);
  NECO_CHECK_EQ(again.sha256, r.sha256);
  NECO_CHECK(contains(again.verifiedBy, "recorded at download"));
  NECO_CHECK_EQ(server.requests().size(), requests);  // no network for a verified present file

  neco::FetchOptions forced = o;
  forced.force = true;
  const neco::FetchResult fresh = neco::fetchWeights("dinov2_vits14", forced);
  NECO_CHECK(!fresh.alreadyPresent);
  NECO_CHECK_EQ(server.requests().size(), requests + 1);
}

NECO_TEST(FetchWeights, resumesATruncatedDownloadWithRange) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile truncated = neco::test::servedBytes(checkpoint());
  truncated.closeAtOffset = 100000;
  server.serve("/ckpt.pth", truncated);
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));
  const fs::path file = cache.path() / "neco_vits14_dinov2r_model.ckpt";

  const std::string message =
      messageOf<neco::NetworkError>([&] { neco::fetchWeights("neco_vits14_dinov2r_model", o); });
  NECO_CHECK(contains(message, "connection lost"));
  NECO_CHECK(contains(message, "resume"));
  NECO_CHECK(!fs::exists(file));
  NECO_REQUIRE(fs::exists(withSuffix(file, ".part")));
  NECO_CHECK_EQ(fs::file_size(withSuffix(file, ".part")), 100000u);

  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  const neco::FetchResult r = neco::fetchWeights("neco_vits14_dinov2r_model", o);
  NECO_CHECK(r.resumed);
  NECO_CHECK(neco::test::readBytes(file) == checkpoint());
  NECO_CHECK(!fs::exists(withSuffix(file, ".part")));
  const auto requests = server.requests();
  NECO_REQUIRE(requests.size() == 2);
  NECO_CHECK_EQ(requests[0].range, "");
  NECO_CHECK_EQ(requests[1].range, "bytes=100000-");
}

NECO_TEST(FetchWeights, serverIgnoringRangeRestartsFromZero) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile truncated = neco::test::servedBytes(checkpoint());
  truncated.closeAtOffset = 50000;
  server.serve("/ckpt.pth", truncated);
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));
  NECO_CHECK_THROWS(neco::NetworkError, neco::fetchWeights("dino_vits16", o));

  neco::test::ServedFile noRanges = neco::test::servedBytes(checkpoint());
  noRanges.ignoreRange = true;
  server.serve("/ckpt.pth", noRanges);
  const neco::FetchResult r = neco::fetchWeights("dino_vits16", o);
  NECO_CHECK(!r.resumed);
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());
  const auto requests = server.requests();
  NECO_CHECK_EQ(requests.back().range, "bytes=50000-");
}

NECO_TEST(FetchWeights, completePartFileIsAcceptedAndOversizedOneRestarts) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));
  const fs::path part = cache.path() / "dinov2_vitb14.pth.part";

  neco::test::writeBytes(part, checkpoint());  // every byte already there: the server answers 416
  const neco::FetchResult r = neco::fetchWeights("dinov2_vitb14", o);
  NECO_CHECK(r.resumed);
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());

  Bytes tooLong = checkpoint();
  tooLong.resize(tooLong.size() + 1000, 0x55);
  neco::test::writeBytes(cache.path() / "dinov2_vitl14.pth.part", tooLong);
  const neco::FetchResult restarted = neco::fetchWeights("dinov2_vitl14", o);
  NECO_CHECK(!restarted.resumed);
  NECO_CHECK(neco::test::readBytes(restarted.file) == checkpoint());
}

NECO_TEST(FetchWeights, corruptedDownloadIsRemovedAndReported) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile corrupted = neco::test::servedBytes(checkpoint());
  corrupted.flipByteAt = checkpoint().size() / 2;  // inside archive/data/0
  server.serve("/ckpt.pth", corrupted);
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));

  const std::string message = messageOf<neco::NetworkError>([&] { neco::fetchWeights("dinov2_vits14_reg", o); });
  NECO_CHECK(contains(message, "checksum mismatch"));
  NECO_CHECK(contains(message, "CRC-32"));
  NECO_CHECK(contains(message, "archive/data/0"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14_reg.pth"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14_reg.pth.part"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14_reg.pth.sha256"));

  server.serve("/ckpt.pth", neco::test::servedBytes(Bytes(5000, 'x')));  // e.g. a captive portal's page
  const std::string notZip = messageOf<neco::NetworkError>([&] { neco::fetchWeights("dinov2_vits14_reg", o); });
  NECO_CHECK(contains(notZip, "checksum mismatch"));
  NECO_CHECK(contains(notZip, "not a valid torch zip"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14_reg.pth"));
}

NECO_TEST(FetchWeights, sha256OptionIsEnforced) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::test::TempDir cache("neco-fetch");
  neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));

  o.sha256 = std::string(64, 'a');
  const std::string message = messageOf<neco::NetworkError>([&] { neco::fetchWeights("dino_vitb8", o); });
  NECO_CHECK(contains(message, "checksum mismatch"));
  NECO_CHECK(contains(message, std::string(64, 'a')));
  NECO_CHECK(!fs::exists(cache.path() / "dino_vitb8.pth"));
  NECO_CHECK(!fs::exists(cache.path() / "dino_vitb8.pth.part"));

  std::string upper = sha256Of(checkpoint());
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  o.sha256 = upper;  // hex case does not matter
  const neco::FetchResult r = neco::fetchWeights("dino_vitb8", o);
  NECO_CHECK(contains(r.verifiedBy, "expected sha256"));
  NECO_CHECK(contains(r.verifiedBy, "zip CRC-32"));

  o.sha256 = std::string(64, 'b');  // a present file that does not match is downloaded again
  NECO_CHECK_THROWS(neco::NetworkError, neco::fetchWeights("dino_vitb8", o));
  o.sha256 = "abc";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::fetchWeights("dino_vitb8", o));
}

NECO_TEST(FetchWeights, serverAdvertisedSha256IsChecked) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  const Bytes blob(200000, 0x42);
  neco::test::ServedFile advertised = neco::test::servedBytes(blob);
  advertised.linkedEtag = sha256Of(blob);
  server.serve("/repo/resolve/main/weights.bin", advertised);
  neco::test::TempDir cache("neco-fetch");
  neco::FetchOptions o = optionsFor(cache, "");
  const std::string url = server.url("/repo/resolve/main/weights.bin?download=true");

  const neco::FetchResult r = neco::fetchWeights(url, o);  // a plain URL keeps its file name
  NECO_CHECK(r.file == cache.path() / "weights.bin");
  NECO_CHECK(contains(r.verifiedBy, "X-Linked-ETag"));

  advertised.flipByteAt = 1234;
  server.serve("/repo/resolve/main/weights.bin", advertised);
  o.force = true;
  const std::string message = messageOf<neco::NetworkError>([&] { neco::fetchWeights(url, o); });
  NECO_CHECK(contains(message, "checksum mismatch"));
  NECO_CHECK(contains(message, "X-Linked-ETag"));
  NECO_CHECK(neco::test::readBytes(r.file) == blob);  // the verified copy survives a failed refresh

  server.serve("/plain.bin", neco::test::servedBytes(blob));
  const neco::FetchResult plain = neco::fetchWeights(server.url("/plain.bin"), o);
  NECO_CHECK_EQ(plain.verifiedBy, "no checksum available");
}

NECO_TEST(FetchWeights, httpErrorNamesStatusAndUrl) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile forbidden = neco::test::servedBytes(checkpoint());
  forbidden.status = 403;
  server.serve("/forbidden.pth", forbidden);
  neco::test::TempDir cache("neco-fetch");

  const std::string missing = server.url("/missing.pth");
  const std::string message =
      messageOf<neco::NetworkError>([&] { neco::fetchWeights("dinov2_vits14", optionsFor(cache, missing)); });
  NECO_CHECK(contains(message, "404"));
  NECO_CHECK(contains(message, missing));
  NECO_CHECK(contains(message, "dinov2_vits14"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14.pth"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14.pth.part"));  // the error page is not kept

  const std::string denied = messageOf<neco::NetworkError>(
      [&] { neco::fetchWeights("dinov2_vits14", optionsFor(cache, server.url("/forbidden.pth"))); });
  NECO_CHECK(contains(denied, "403"));
}

NECO_TEST(FetchWeights, offlineSaysSoAndWhereToPutTheFile) {
  requireDownloads();
  neco::test::TempDir cache("neco-fetch");
  const std::string url = "http://127.0.0.1:" + std::to_string(neco::test::closedLoopbackPort()) + "/x.pth";
  const std::string message =
      messageOf<neco::NetworkError>([&] { neco::fetchWeights("dinov2_vitg14_reg", optionsFor(cache, url)); });
  NECO_CHECK(contains(message, "offline"));
  NECO_CHECK(contains(message, "127.0.0.1"));
  NECO_CHECK(contains(message, url));
  NECO_CHECK(contains(message, (cache.path() / "dinov2_vitg14_reg.pth").string()));
}

NECO_TEST(FetchWeights, presentFileCopiedByHandIsVerifiedWithoutNetwork) {
  // Also without libcurl: a file copied into the cache by hand is verified and used.
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  neco::test::TempDir cache("neco-fetch");
  const std::string offline = "http://127.0.0.1:" + std::to_string(neco::test::closedLoopbackPort()) + "/x.pth";
  const fs::path file = neco::weightsCachePath("neco_vits16_leopart_teacher", cache.path());
  NECO_CHECK(file == cache.path() / "neco_vits16_leopart_teacher.ckpt");
  neco::test::writeBytes(file, checkpoint());

  const neco::FetchResult r = neco::fetchWeights("neco_vits16_leopart_teacher", optionsFor(cache, offline));
  NECO_CHECK(r.alreadyPresent);
  NECO_CHECK(contains(r.verifiedBy, "zip CRC-32"));
  NECO_CHECK_EQ(r.sha256, sha256Of(checkpoint()));
  NECO_CHECK(fs::exists(withSuffix(file, ".sha256")));

  Bytes damaged = checkpoint();
  damaged[damaged.size() / 2] ^= 1;
  neco::test::writeBytes(file, damaged);  // the sidecar no longer matches, and neither do the CRCs
  auto fetchAgain = [&] { neco::fetchWeights("neco_vits16_leopart_teacher", optionsFor(cache, offline)); };
  if (neco::canDownloadWeights()) {
    const std::string message = messageOf<neco::NetworkError>(fetchAgain);
    NECO_CHECK(contains(message, "offline"));
  } else {
    const std::string message = messageOf<neco::UnsupportedError>(fetchAgain);
    NECO_CHECK(contains(message, "libcurl"));
    NECO_CHECK(contains(message, file.string()));
  }
  NECO_CHECK(neco::test::readBytes(file) == damaged);  // not deleted: only a verified download replaces it
}

NECO_TEST(FetchWeights, writeFailureIsAnIoErrorAndKeepsThePartialFile) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::test::TempDir cache("neco-fetch");
  // A full disk, simulated with a file size limit: write() fails (EFBIG) after 100 kB.
  rlimit saved{};
  NECO_REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 100 * 1024;
  NECO_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    neco::fetchWeights("dinov2_vits14", optionsFor(cache, server.url("/ckpt.pth")));
  } catch (const neco::IoError& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("wrong exception: ") + e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);
  NECO_CHECK(contains(message, "dinov2_vits14.pth.part"));
  NECO_CHECK(contains(message, "cannot write"));
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14.pth"));
  NECO_CHECK(fs::exists(cache.path() / "dinov2_vits14.pth.part"));

  const neco::FetchResult r = neco::fetchWeights("dinov2_vits14", optionsFor(cache, server.url("/ckpt.pth")));
  NECO_CHECK(r.resumed);
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());
}

NECO_TEST(FetchWeights, partFileIsLockedAndNeverFollowedThroughALink) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::test::TempDir cache("neco-fetch"), outside("neco-outside");
  const neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));

  const fs::path victim = outside / "precious.txt";
  neco::test::writeBytes(victim, Bytes{'k', 'e', 'e', 'p'});
  fs::create_symlink(victim, cache.path() / "dino_vitb16.pth.part");
  NECO_CHECK_THROWS(neco::IoError, neco::fetchWeights("dino_vitb16", o));
  NECO_CHECK(neco::test::readBytes(victim) == (Bytes{'k', 'e', 'e', 'p'}));

  // Another process downloading the same file holds an exclusive flock on its .part.
  const fs::path part = cache.path() / "dino_vits16.pth.part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  NECO_REQUIRE(fd >= 0);
  NECO_REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  const std::string busy = messageOf<neco::IoError>([&] { neco::fetchWeights("dino_vits16", o); });
  NECO_CHECK(contains(busy, "another process"));
  ::close(fd);
  NECO_CHECK(neco::test::readBytes(neco::fetchWeights("dino_vits16", o).file) == checkpoint());
}

NECO_TEST(FetchWeights, cancelKeepsThePartialFileForAResume) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile slow = neco::test::servedBytes(checkpoint());
  slow.dripChunk = 16 * 1024;
  slow.dripDelay = std::chrono::milliseconds(5);
  server.serve("/ckpt.pth", slow);
  neco::test::TempDir cache("neco-fetch");
  neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));
  o.progress = [](const neco::DownloadProgress& p) { return p.received < 64 * 1024; };

  NECO_CHECK_THROWS(neco::DownloadCancelledError, neco::fetchWeights("dinov2_vits14", o));
  const fs::path part = cache.path() / "dinov2_vits14.pth.part";
  NECO_REQUIRE(fs::exists(part));
  NECO_CHECK(fs::file_size(part) >= 64 * 1024);
  NECO_CHECK(fs::file_size(part) < checkpoint().size());
  NECO_CHECK(!fs::exists(cache.path() / "dinov2_vits14.pth"));

  o.progress = nullptr;
  const neco::FetchResult r = neco::fetchWeights("dinov2_vits14", o);
  NECO_CHECK(r.resumed);
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());
}

NECO_TEST(FetchWeights, progressIsMonotonicWithTheRightTotal) {
  requireDownloads();
  neco::test::LoopbackHttpServer server;
  neco::test::ServedFile slow = neco::test::servedBytes(checkpoint());
  slow.dripChunk = 32 * 1024;
  slow.dripDelay = std::chrono::milliseconds(2);
  server.serve("/ckpt.pth", slow);
  neco::test::TempDir cache("neco-fetch");
  neco::FetchOptions o = optionsFor(cache, server.url("/ckpt.pth"));
  std::vector<neco::DownloadProgress> seen;
  o.progress = [&seen](const neco::DownloadProgress& p) {
    seen.push_back(p);
    return true;
  };
  neco::fetchWeights("dinov2_vits14", o);

  NECO_REQUIRE(seen.size() >= 3);
  bool monotonic = true, totalsRight = true;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (i > 0 && seen[i].received < seen[i - 1].received) monotonic = false;
    if (seen[i].total != 0 && seen[i].total != checkpoint().size()) totalsRight = false;
    if (seen[i].received > checkpoint().size()) totalsRight = false;
  }
  NECO_CHECK(monotonic);
  NECO_CHECK(totalsRight);
  NECO_CHECK_EQ(seen.back().received, checkpoint().size());
  NECO_CHECK_EQ(seen.back().total, checkpoint().size());
  NECO_CHECK(seen.back().bytesPerSecond > 0);
  NECO_CHECK(!seen.back().resumed);
}

NECO_TEST(FetchWeights, rejectsUnknownNamesAndBadArguments) {
  neco::test::TempDir cache("neco-fetch");
  neco::FetchOptions o;
  o.cacheDir = cache.path();
  const std::string typo = messageOf<neco::InvalidArgumentError>([&] { neco::fetchWeights("dinov2_vits15_reg", o); });
  NECO_CHECK(contains(typo, "unknown weights 'dinov2_vits15_reg'"));
  NECO_CHECK(contains(typo, "dinov2_vits14_reg"));
  const std::string prefix = messageOf<neco::InvalidArgumentError>([&] { neco::fetchWeights("neco_vitb14", o); });
  NECO_CHECK(contains(prefix, "neco_vitb14_dinov2r_model"));
  const std::string far = messageOf<neco::InvalidArgumentError>([&] { neco::fetchWeights("resnet50-imagenet", o); });
  NECO_CHECK(contains(far, "known names"));
  NECO_CHECK(contains(far, "dino_vits8"));

  o.url = "ftp://example.org/x.pth";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::fetchWeights("dinov2_vits14", o));
  o.url.clear();
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::fetchWeights("https://example.org/", o));
  NECO_CHECK(neco::weightsCachePath("https://h/a/..", cache.path()).parent_path() == cache.path());
  NECO_CHECK(neco::weightsCachePath("https://h/a/..%2F..%2Fx", cache.path()).parent_path() == cache.path());
  NECO_CHECK(fs::is_empty(cache.path()));  // nothing written for a rejected call
}

NECO_TEST(FetchWeights, registryIsWellFormed) {
  const auto& all = neco::officialWeights();
  const std::set<std::string> families = {"dinov2", "dinov2-reg", "dino", "neco"};
  std::set<std::string> names, files;
  std::map<std::string, int> perFamily;
  for (const neco::OfficialWeights& w : all) {
    NECO_CHECK(names.insert(w.name).second);
    NECO_CHECK(families.count(w.family) == 1);
    ++perFamily[w.family];
    NECO_CHECK(w.url.rfind("https://", 0) == 0);
    NECO_CHECK(!w.description.empty());
    NECO_CHECK(w.sha256.empty() || w.sha256.size() == 64);
    for (char c : w.name) NECO_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    const fs::path file = neco::weightsCachePath(w.name, "/cache");
    NECO_CHECK(file.extension() == ".pth" || file.extension() == ".ckpt");
    NECO_CHECK(files.insert(file.string()).second);
    NECO_CHECK(neco::findOfficialWeights(w.name) == &w);
  }
  NECO_CHECK_EQ(perFamily["dinov2"], 4);
  NECO_CHECK_EQ(perFamily["dinov2-reg"], 4);
  NECO_CHECK_EQ(perFamily["dino"], 4);
  NECO_CHECK_EQ(perFamily["neco"], 18);  // METHOD.md §7.4: 2 sizes x 3 inits x 2 + 3 inits x 2
  NECO_REQUIRE(neco::findOfficialWeights("dinov2_vits14_reg") != nullptr);
  NECO_CHECK_EQ(neco::findOfficialWeights("dinov2_vits14_reg")->url,
                "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_reg4_pretrain.pth");
  NECO_REQUIRE(neco::findOfficialWeights("neco_vitb14_dinov2r_xr_teacher") != nullptr);
  NECO_CHECK_EQ(neco::findOfficialWeights("neco_vitb14_dinov2r_xr_teacher")->url,
                "https://huggingface.co/FunAILab/NeCo/resolve/main/vit-base/dinov2-architectures/"
                "neco_on_dinov2r_xr_vit14_teacher.ckpt");
  NECO_CHECK(neco::findOfficialWeights("DINOV2_VITS14") == nullptr);
}

NECO_TEST(FetchWeights, defaultCacheFollowsXdg) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (!xdg || !*xdg) NECO_SKIP("XDG_CACHE_HOME is not set (CTest sets it into the build folder)");
  NECO_CHECK(neco::weightsCacheDirectory() == fs::path(xdg) / "neco-studio" / "weights");
  NECO_CHECK(neco::weightsCachePath("dino_vits8") == fs::path(xdg) / "neco-studio" / "weights" / "dino_vits8.pth");

  requireDownloads();
  neco::test::LoopbackHttpServer server;
  server.serve("/ckpt.pth", neco::test::servedBytes(checkpoint()));
  neco::FetchOptions o;
  o.url = server.url("/ckpt.pth");
  o.force = true;
  const neco::FetchResult r = neco::fetchWeights("dino_vits8", o);
  NECO_CHECK(r.file == neco::weightsCachePath("dino_vits8"));
  NECO_CHECK(neco::test::readBytes(r.file) == checkpoint());
}

NECO_TEST(FetchWeights, realTorchSaveCheckpoint) {
  const char* dataDir = std::getenv("NECO_TEST_DATA_DIR");
  const fs::path real = dataDir ? fs::path(dataDir) / "checkpoints" / "dinov2_reg4_official.pth" : fs::path();
  if (real.empty() || !fs::exists(real)) NECO_SKIP("tests/data/checkpoints/dinov2_reg4_official.pth is not here");
  requireDownloads();
  const Bytes bytes = neco::test::readBytes(real);
  neco::test::LoopbackHttpServer server;
  server.serve("/dinov2_vits14_reg4_pretrain.pth", neco::test::servedBytes(bytes));
  neco::test::TempDir cache("neco-fetch");
  const neco::FetchResult r =
      neco::fetchWeights("dinov2_vits14_reg", optionsFor(cache, server.url("/dinov2_vits14_reg4_pretrain.pth")));
  NECO_CHECK(contains(r.verifiedBy, "zip CRC-32"));
  NECO_CHECK(neco::test::readBytes(r.file) == bytes);

  neco::test::ServedFile corrupted = neco::test::servedBytes(bytes);
  corrupted.flipByteAt = bytes.size() / 2;
  server.serve("/dinov2_vits14_reg4_pretrain.pth", corrupted);
  neco::FetchOptions o = optionsFor(cache, server.url("/dinov2_vits14_reg4_pretrain.pth"));
  o.force = true;
  const std::string message = messageOf<neco::NetworkError>([&] { neco::fetchWeights("dinov2_vits14_reg", o); });
  NECO_CHECK(contains(message, "checksum mismatch"));
}
