#include "util/stream.hpp"

#include <algorithm>
#include <cstring>

#include "util/error.hpp"

namespace d2a {

std::string read_all(Reader& reader, size_t limit, const std::string& what) {
    std::string out;
    char buf[65536];
    for (;;) {
        size_t n = reader.read(buf, sizeof buf);
        if (n == 0) break;
        if (out.size() + n > limit) {
            throw Error(what + " is larger than the limit of " + std::to_string(limit) + " bytes");
        }
        out.append(buf, n);
    }
    return out;
}

uint64_t copy_stream(Reader& reader, Writer& writer) {
    std::vector<char> buf(1 << 17);
    uint64_t total = 0;
    for (;;) {
        size_t n = reader.read(buf.data(), buf.size());
        if (n == 0) break;
        writer.write(buf.data(), n);
        total += n;
    }
    return total;
}

uint64_t Reader::skip(uint64_t n) {
    char buf[65536];
    uint64_t done = 0;
    while (done < n) {
        size_t got = read(buf, static_cast<size_t>(std::min<uint64_t>(sizeof buf, n - done)));
        if (got == 0) break;
        done += got;
    }
    return done;
}

size_t MemoryReader::read(void* buf, size_t n) {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
}

std::string PeekReader::peek(size_t n) {
    while (head_.size() - head_pos_ < n && !inner_eof_) {
        char buf[4096];
        size_t got = inner_->read(buf, std::min(sizeof buf, n - (head_.size() - head_pos_)));
        if (got == 0) {
            inner_eof_ = true;
            break;
        }
        head_.append(buf, got);
    }
    return head_.substr(head_pos_, n);
}

uint64_t PeekReader::skip(uint64_t n) {
    uint64_t done = 0;
    if (head_pos_ < head_.size()) {
        done = std::min<uint64_t>(n, head_.size() - head_pos_);
        head_pos_ += static_cast<size_t>(done);
        if (head_pos_ == head_.size()) {
            head_.clear();
            head_pos_ = 0;
        }
    }
    if (done < n && !inner_eof_) done += inner_->skip(n - done);
    return done;
}

size_t PeekReader::read(void* buf, size_t n) {
    if (head_pos_ < head_.size()) {
        size_t k = std::min(n, head_.size() - head_pos_);
        std::memcpy(buf, head_.data() + head_pos_, k);
        head_pos_ += k;
        if (head_pos_ == head_.size()) {
            head_.clear();
            head_pos_ = 0;
        }
        return k;
    }
    if (inner_eof_) return 0;
    return inner_->read(buf, n);
}

}  // namespace d2a
