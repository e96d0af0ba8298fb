#include <clocale>
#include <iostream>
#include <string>

#include "cli/cli.hpp"
#include "serve/serve.hpp"

int main(int argc, char** argv) {
    // libarchive converts names through the locale; in plain "C" it marks non-ASCII names
    // as binary (hdrcharset=BINARY) instead of writing them as UTF-8.
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "");
    if (argc > 1 && std::string(argv[1]) == "serve")
        return docker2aci::serve::run(argc - 1, argv + 1, std::cerr);
    return docker2aci::cli::run(argc, argv, std::cout, std::cerr);
}
