#include <clocale>
#include <iostream>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
    // libarchive converts names through the locale; in plain "C" it marks non-ASCII names
    // as binary (hdrcharset=BINARY) instead of writing them as UTF-8.
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "");
    return docker2aci::cli::run(argc, argv, std::cout, std::cerr);
}
