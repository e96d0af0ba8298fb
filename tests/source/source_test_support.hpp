// A temporary directory to lay out docker save trees and OCI layouts in, read back through
// DirectoryBundle as the sources read extracted or directory inputs.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "source/bundle.hpp"
#include "support/helpers.hpp"
#include "util/digest.hpp"

namespace d2a::testing {

class TempTree {
  public:
    void write(const std::string& path, const std::string& bytes) const {
        std::filesystem::create_directories((root_ / path).parent_path());
        std::ofstream(root_ / path, std::ios::binary) << bytes;
    }
    // Stores `bytes` as blobs/sha256/<hex> and returns its digest ("sha256:<hex>").
    std::string blob(const std::string& bytes) const {
        Digest d = Digest::of(bytes, HashAlgorithm::sha256);
        write("blobs/sha256/" + d.hex, bytes);
        return d.str();
    }
    [[nodiscard]] const std::filesystem::path& path() const { return root_; }
    [[nodiscard]] std::shared_ptr<const Bundle> bundle() const {
        return std::make_shared<DirectoryBundle>(root_.string());
    }

  private:
    TempDir dir_;
    const std::filesystem::path& root_ = dir_.path();
};

inline std::string sha256(const std::string& bytes) {
    return Digest::of(bytes, HashAlgorithm::sha256).str();
}

}  // namespace d2a::testing
