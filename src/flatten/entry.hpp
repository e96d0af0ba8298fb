// One filesystem entry as layers carry it and as the ACI writer receives it. Paths are
// normalised and relative to the image root ("etc/passwd"); the root itself is "".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace d2a {

enum class EntryType { regular, directory, symlink, hardlink, char_device, block_device, fifo };

struct Entry {
    std::string path;
    EntryType type = EntryType::regular;
    uint32_t mode = 0644;  // permission bits including setuid/setgid/sticky (07777)
    int64_t uid = 0;
    int64_t gid = 0;
    std::string uname;
    std::string gname;
    int64_t mtime = 0;
    long mtime_nsec = 0;
    uint64_t size = 0;        // regular files only
    std::string link_target;  // symlink target verbatim, or hardlink target path (normalised)
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
};

}  // namespace d2a
