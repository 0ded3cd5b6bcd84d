#include "NecoTest.h"

int main(int argc, char** argv) { return neco::test::runAll(argc, argv); }
