#include "CliApp.h"

int main(int argc, char** argv) { return neco::cli::runCli(argc, argv); }
