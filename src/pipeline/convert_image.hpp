// One image, from a reference to ACIs in place: the library call a program makes.
//
//   reference ─▶ source (local file, OCI layout, registry) ─▶ up-to-date check
//             ─▶ flatten + write (aci/; a registry image's layers download when first
//                read, so an unchanged image downloads nothing) ─▶ sign ─▶ rename into place
//
// Nothing here prints: progress goes to the DownloadObserver, the result comes back as an
// ImageOutcome, failures as d2a::Error.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/converter.hpp"
#include "publish/signer.hpp"
#include "image/image.hpp"
#include "pipeline/output_claims.hpp"
#include "source/local_input.hpp"
#include "source/registry_source.hpp"

namespace d2a {

struct PipelineOptions {
    // The one set of limits: every stage reads it from here (the registry's own byte
    // limits are derived from it).
    Limits limits;
    SourceOptions source;
    RegistryOptions registry;
    int parallel = 4;  // layer downloads at once
    std::optional<std::filesystem::path> cache_dir;
    ConvertOptions convert;
    bool layered = false;  // one ACI per layer (--nosquash)
    bool force = false;    // convert even when the ACIs in place were made from this image
    // Manifest digests ("sha256:...") of images the caller holds already: such an image
    // is skipped once resolved, before anything is downloaded or written.
    std::set<std::string> known_manifests;
    const Signer* signer = nullptr;
    DownloadObserver* observer = nullptr;
};

struct ImageOutcome {
    Image image;  // for reports: names, digests, platform (its layers are not to be read)
    // The ACIs in place were made from this image (skipped_paths), or its manifest is
    // one of known_manifests (skipped_paths empty).
    bool skipped = false;
    std::vector<std::filesystem::path> skipped_paths;
    std::vector<ConvertResult> results;  // the ACIs written, in place
    size_t blobs_downloaded = 0;
};

// `claims`, when given, arbitrates file names across the images of one batch, in which
// this image is number `index`.
ImageOutcome convert_image(const std::string& reference, const PipelineOptions& options,
                           OutputClaims* claims = nullptr, size_t index = 0);

}  // namespace d2a
