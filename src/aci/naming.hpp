// appc names: AC identifiers (image names), AC names (ports, volumes), output file names.
#pragma once

#include <string>
#include <string_view>

namespace d2a {

// Lower-cases and replaces what appc forbids so that the result matches
// ^[a-z0-9]+([-._~/][a-z0-9]+)*$ ; empty when nothing usable is left.
std::string sanitize_ac_identifier(std::string_view s);
// Same for AC names: ^[a-z0-9]+(-[a-z0-9]+)*$
std::string sanitize_ac_name(std::string_view s);

// "{name}-{version}-{os}-{arch}.aci" with '/' as '-' (kept with `keep_slashes`: a path
// below a discovery site's directory); empty parts are left out.
std::string aci_file_name(std::string_view name, std::string_view version, std::string_view os,
                          std::string_view arch, bool keep_slashes = false);

}  // namespace d2a
