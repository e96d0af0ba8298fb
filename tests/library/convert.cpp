// The C++ API (<docker2aci/docker2aci.hpp>), built with CMake's find_package(docker2aci):
//   convert-cpp OUTDIR IMAGE [NAME=VALUE...]   converts IMAGE, prints each ACI's path;
//   convert-cpp --batch OUTDIR IMAGE...        converts them two at a time, prints each
//                                              outcome ("ok PATH", "skipped", "error: ...");
//   convert-cpp --errors IMAGE                 a bad flag and a missing file, caught as the
//                                              API's exception types across the library.
#include <docker2aci/docker2aci.hpp>
#include <iostream>
#include <string>
#include <vector>

namespace {

int errors() {
    docker2aci::Options options;
    try {
        options.set("compression", "brotli");
        std::cout << "no UsageError\n";
    } catch (const docker2aci::UsageError& e) {
        std::cout << "UsageError: " << e.what() << "\n";
    }
    try {
        (void)docker2aci::convert(options, "no-such-file.tar");
        std::cout << "no Error\n";
    } catch (const docker2aci::UsageError& e) {
        std::cout << "UsageError?: " << e.what() << "\n";
    } catch (const docker2aci::Error& e) {
        std::cout << "Error: " << e.what() << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--errors") return errors();
    if (argc < 3) {
        std::cerr << "usage: convert-cpp [--batch] OUTDIR IMAGE [NAME=VALUE...]\n";
        return 2;
    }
    const bool batch = std::string(argv[1]) == "--batch";
    const int first = batch ? 2 : 1;
    docker2aci::Options options;
    options.set_log([](docker2aci::LogLevel level, const std::string& message) {
        std::cerr << "log " << static_cast<int>(level) << ": " << message << "\n";
    });
    try {
        options.set("output-dir", argv[first]);
        if (batch) {
            std::vector<std::string> images(argv + first + 1, argv + argc);
            docker2aci::Batch run(options, images, 2);
            const bool ok = run.run([](const docker2aci::Outcome& o) {
                std::cout << o.index << " " << o.reference << ": ";
                if (!o.ok())
                    std::cout << "error: " << o.error << "\n";
                else if (o.skipped)
                    std::cout << "skipped\n";
                else
                    std::cout << "ok " << o.acis.back().path << " " << o.acis.back().name << "\n";
            });
            return ok ? 0 : 1;
        }
        for (int i = first + 2; i < argc; ++i) {
            const std::string arg = argv[i];
            const auto eq = arg.find('=');
            options.set(arg.substr(0, eq), arg.substr(eq + 1));
        }
        const docker2aci::Outcome outcome = docker2aci::convert(options, argv[first + 1]);
        if (outcome.skipped) std::cout << "skipped " << outcome.manifest_digest << "\n";
        for (const auto& aci : outcome.acis) std::cout << aci.path << "\n";
        return 0;
    } catch (const docker2aci::Error& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
    }
}
