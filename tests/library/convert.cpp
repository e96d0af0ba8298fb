// The C API from C++, built with CMake's find_package(docker2aci): converts IMAGE into
// OUTDIR with the options given as NAME=VALUE, and prints each ACI's path.
#include <docker2aci/docker2aci.h>

#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: convert-cpp OUTDIR IMAGE [NAME=VALUE...]\n";
        return 2;
    }
    std::unique_ptr<d2a_options, decltype(&d2a_options_free)> options(d2a_options_new(),
                                                                      d2a_options_free);
    d2a_options_set(options.get(), "output-dir", argv[1]);
    for (int i = 3; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto eq = arg.find('=');
        if (d2a_options_set(options.get(), arg.substr(0, eq).c_str(), arg.substr(eq + 1).c_str()) !=
            0) {
            std::cerr << d2a_options_error(options.get()) << "\n";
            return 1;
        }
    }
    std::unique_ptr<d2a_result, decltype(&d2a_result_free)> result(
        d2a_convert(options.get(), argv[2]), d2a_result_free);
    if (const char* error = d2a_result_error(result.get())) {
        std::cerr << "Error: " << error << "\n";
        return 1;
    }
    for (size_t i = 0; i < d2a_result_count(result.get()); ++i)
        std::cout << d2a_result_path(result.get(), i) << "\n";
    return 0;
}
