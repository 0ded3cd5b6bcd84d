// `neco fetch-weights` end to end: the real binary (env NECO_CLI, set by CTest in the full build)
// against the loopback server: exit status, the file in --cache, the path on stdout, --list, and
// exit 1 with the status for an HTTP 404.
#include "LoopbackHttpServer.h"
#include "NecoTest.h"
#include "TestFiles.h"
#include "neco/core/Weights.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

std::string text(const fs::path& file) {
  const neco::test::Bytes bytes = neco::test::readBytes(file);
  return std::string(bytes.begin(), bytes.end());
}

/// Runs the CLI with `args`, stdout and stderr captured through files in `work`.
Run runNeco(const std::string& neco, const std::vector<std::string>& args, const neco::test::TempDir& work) {
  const fs::path out = work / "stdout.txt", err = work / "stderr.txt";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(neco.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(neco.c_str(), argv.data());
    ::_exit(127);
  }
  Run r;
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.status = WEXITSTATUS(status);
  r.out = text(out);
  r.err = text(err);
  return r;
}

std::string necoCli() {
  const char* cli = std::getenv("NECO_CLI");
  if (!cli || !*cli) NECO_SKIP("NECO_CLI is not set: the neco binary is not part of this build (formats-only)");
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  return cli;
}

}  // namespace

NECO_TEST(FetchWeightsCli, downloadsIntoTheCacheAndPrintsThePath) {
  const std::string neco = necoCli();
  if (!neco::canDownloadWeights()) NECO_SKIP("this build has no HTTP client (libcurl)");
  neco::test::Bytes body(150000);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7);
  neco::test::LoopbackHttpServer server;
  server.serve("/w.bin", neco::test::servedBytes(body));
  neco::test::TempDir work("neco-fetch-cli");
  const fs::path cache = work / "cache";

  const Run ok =
      runNeco(neco, {"--no-log-file", "fetch-weights", server.url("/w.bin"), "--cache", cache.string()}, work);
  NECO_CHECK_EQ(ok.status, 0);
  NECO_CHECK(neco::test::readBytes(cache / "w.bin") == body);
  NECO_CHECK(ok.out.find((cache / "w.bin").string()) != std::string::npos);
  if (ok.status != 0) std::fprintf(stderr, "    stdout: %s\n    stderr: %s\n", ok.out.c_str(), ok.err.c_str());

  const Run again =
      runNeco(neco, {"--no-log-file", "fetch-weights", server.url("/w.bin"), "--cache", cache.string()}, work);
  NECO_CHECK_EQ(again.status, 0);
  NECO_CHECK(again.out.find((cache / "w.bin").string()) != std::string::npos);
}

NECO_TEST(FetchWeightsCli, httpErrorExitsOneWithTheStatus) {
  const std::string neco = necoCli();
  if (!neco::canDownloadWeights()) NECO_SKIP("this build has no HTTP client (libcurl)");
  neco::test::LoopbackHttpServer server;
  neco::test::TempDir work("neco-fetch-cli");
  const Run missing = runNeco(neco,
                              {"--no-log-file", "fetch-weights", "dinov2_vits14", "--url", server.url("/nothing.pth"),
                               "--cache", (work / "cache").string()},
                              work);
  NECO_CHECK_EQ(missing.status, 1);
  NECO_CHECK(missing.err.find("404") != std::string::npos);
  NECO_CHECK(!fs::exists(work / "cache" / "dinov2_vits14.pth"));
}

NECO_TEST(FetchWeightsCli, listsTheRegistryAndRejectsUnknownNames) {
  const std::string neco = necoCli();
  neco::test::TempDir work("neco-fetch-cli");
  const Run list = runNeco(neco, {"--no-log-file", "fetch-weights", "--list"}, work);
  NECO_CHECK_EQ(list.status, 0);
  for (const neco::OfficialWeights& w : neco::officialWeights()) {
    NECO_CHECK(list.out.find(w.name) != std::string::npos);
    NECO_CHECK(list.out.find(w.url) != std::string::npos);
  }
  const Run unknown = runNeco(neco, {"--no-log-file", "fetch-weights", "dinov2_vits15"}, work);
  NECO_CHECK_EQ(unknown.status, 2);
  NECO_CHECK(unknown.err.find("dinov2_vits14") != std::string::npos);
  const Run none = runNeco(neco, {"--no-log-file", "fetch-weights"}, work);
  NECO_CHECK_EQ(none.status, 2);
}
