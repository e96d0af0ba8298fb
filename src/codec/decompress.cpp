#include "codec/decompress.hpp"

#include <isa-l/igzip_lib.h>
#include <lzma.h>
#include <zstd.h>

#include <vector>

#include "util/error.hpp"

namespace d2a {

std::string_view compression_name(Compression c) {
    switch (c) {
        case Compression::none:
            return "none";
        case Compression::gzip:
            return "gzip";
        case Compression::zstd:
            return "zstd";
        case Compression::xz:
            return "xz";
        case Compression::bzip2:
            return "bzip2";
    }
    return "?";
}

Compression detect_compression(std::string_view head) {
    auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
    if (starts("\x1f\x8b")) return Compression::gzip;
    if (starts("\x28\xb5\x2f\xfd")) return Compression::zstd;
    if (starts("\xfd"
               "7zXZ\x00"))
        return Compression::xz;
    if (starts("BZh")) return Compression::bzip2;
    return Compression::none;
}

namespace {

constexpr size_t kInputChunk = 1 << 17;
constexpr uint64_t kRatioGrace = 64ull << 20;

// Shared input buffering and output accounting for the decompressors.
class DecompressorBase : public Reader {
  public:
    DecompressorBase(std::unique_ptr<Reader> inner, std::string what, uint64_t max_output,
                     uint64_t max_ratio)
        : inner_(std::move(inner)),
          what_(std::move(what)),
          max_output_(max_output),
          max_ratio_(max_ratio) {
        in_.resize(kInputChunk);
    }

  protected:
    // Refills the input buffer when empty; returns false at end of input.
    bool fill() {
        if (in_pos_ < in_len_) return true;
        if (in_eof_) return false;
        in_len_ = inner_->read(in_.data(), in_.size());
        total_in_ += in_len_;
        in_pos_ = 0;
        if (in_len_ == 0) in_eof_ = true;
        return in_len_ > 0;
    }
    size_t account(size_t produced) {
        total_out_ += produced;
        if (total_out_ > max_output_) {
            throw Error(what_ + ": decompressed size exceeds the limit of " +
                        std::to_string(max_output_) + " bytes");
        }
        if (total_out_ > kRatioGrace &&
            total_out_ / std::max<uint64_t>(total_in_, 1) > max_ratio_) {
            throw Error(what_ + ": compression ratio above " + std::to_string(max_ratio_) +
                        ":1 (a decompression bomb?)");
        }
        return produced;
    }

    std::unique_ptr<Reader> inner_;
    std::string what_;
    uint64_t max_output_;
    uint64_t max_ratio_;
    uint64_t total_out_ = 0;
    uint64_t total_in_ = 0;
    std::vector<unsigned char> in_;
    size_t in_pos_ = 0;
    size_t in_len_ = 0;
    bool in_eof_ = false;
    bool done_ = false;
};

// gzip through ISA-L's inflate (about 3x zlib here); concatenated members are one valid
// stream (RFC 1952, section 2.2), and each member's CRC-32 and size are checked.
class GzipReader final : public DecompressorBase {
  public:
    GzipReader(std::unique_ptr<Reader> inner, std::string what, uint64_t max_output,
               uint64_t max_ratio)
        : DecompressorBase(std::move(inner), std::move(what), max_output, max_ratio),
          state_(std::make_unique<inflate_state>()) {
        isal_inflate_init(state_.get());
        state_->crc_flag = ISAL_GZIP;
    }

    size_t read(void* buf, size_t n) override {
        if (done_ || n == 0) return 0;
        const auto cap = static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
        inflate_state& st = *state_;
        st.next_out = static_cast<uint8_t*>(buf);
        st.avail_out = cap;
        while (st.avail_out == cap) {
            if (st.block_state == ISAL_BLOCK_FINISH) {
                uint8_t* rest = st.next_in;
                uint32_t rest_len = st.avail_in;
                if (rest_len == 0) {
                    in_pos_ = in_len_;
                    if (!fill()) {
                        done_ = true;
                        break;
                    }
                    rest = in_.data() + in_pos_;
                    rest_len = static_cast<uint32_t>(in_len_ - in_pos_);
                }
                if (rest[0] != 0x1f) throw Error(what_ + ": trailing garbage after gzip data");
                isal_inflate_reset(&st);
                st.crc_flag = ISAL_GZIP;
                st.next_in = rest;
                st.avail_in = rest_len;
                st.next_out = static_cast<uint8_t*>(buf);
                st.avail_out = cap;
            }
            if (st.avail_in == 0) {
                in_pos_ = in_len_;
                if (!fill()) throw Error(what_ + ": truncated gzip stream");
                st.next_in = in_.data() + in_pos_;
                st.avail_in = static_cast<uint32_t>(in_len_ - in_pos_);
            }
            int rc = isal_inflate(&st);
            if (rc == ISAL_INCORRECT_CHECKSUM) throw Error(what_ + ": gzip checksum mismatch");
            if (rc < 0)
                throw Error(what_ + ": corrupt gzip data (inflate error " + std::to_string(rc) +
                            ")");
        }
        return account(cap - st.avail_out);
    }

  private:
    std::unique_ptr<inflate_state> state_;
};

class ZstdReader final : public DecompressorBase {
  public:
    ZstdReader(std::unique_ptr<Reader> inner, std::string what, uint64_t max_output,
               uint64_t max_ratio)
        : DecompressorBase(std::move(inner), std::move(what), max_output, max_ratio),
          ds_(ZSTD_createDStream()) {
        if (!ds_) throw Error(what_ + ": zstd init");
        // Refuse frames that ask for huge windows (a memory bomb).
        ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 27);
    }
    ~ZstdReader() override { ZSTD_freeDStream(ds_); }

    size_t read(void* buf, size_t n) override {
        if (done_ || n == 0) return 0;
        ZSTD_outBuffer out{buf, n, 0};
        while (out.pos == 0) {
            if (!fill()) {
                if (!frame_open_) {
                    done_ = true;
                    return 0;
                }
                throw Error(what_ + ": truncated zstd stream");
            }
            ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
            size_t rc = ZSTD_decompressStream(ds_, &out, &in);
            in_pos_ = in.pos;
            if (ZSTD_isError(rc)) {
                throw Error(what_ + ": corrupt zstd data (" + ZSTD_getErrorName(rc) + ")");
            }
            frame_open_ = rc != 0;
        }
        return account(out.pos);
    }

  private:
    ZSTD_DStream* ds_;
    bool frame_open_ = false;
};

class XzReader final : public DecompressorBase {
  public:
    XzReader(std::unique_ptr<Reader> inner, std::string what, uint64_t max_output,
             uint64_t max_ratio)
        : DecompressorBase(std::move(inner), std::move(what), max_output, max_ratio) {
        if (lzma_stream_decoder(&ls_, 1ull << 30, LZMA_CONCATENATED) != LZMA_OK) {
            throw Error(what_ + ": xz init");
        }
    }
    ~XzReader() override { lzma_end(&ls_); }

    size_t read(void* buf, size_t n) override {
        if (done_ || n == 0) return 0;
        ls_.next_out = static_cast<uint8_t*>(buf);
        ls_.avail_out = n;
        while (ls_.avail_out == n) {
            lzma_action action = LZMA_RUN;
            if (!fill()) action = LZMA_FINISH;
            ls_.next_in = in_.data() + in_pos_;
            ls_.avail_in = in_len_ - in_pos_;
            lzma_ret rc = lzma_code(&ls_, action);
            in_pos_ = in_len_ - ls_.avail_in;
            if (rc == LZMA_STREAM_END) {
                done_ = true;
                break;
            }
            if (rc != LZMA_OK) {
                throw Error(what_ + (action == LZMA_FINISH ? ": truncated xz stream"
                                                           : ": corrupt xz data"));
            }
        }
        return account(n - ls_.avail_out);
    }

  private:
    lzma_stream ls_ = LZMA_STREAM_INIT;
};

class CountingReader final : public Reader {
  public:
    CountingReader(std::unique_ptr<Reader> inner, std::string what, uint64_t max_output)
        : inner_(std::move(inner)), what_(std::move(what)), max_(max_output) {}
    uint64_t skip(uint64_t n) override {
        uint64_t got = inner_->skip(n);
        total_ += got;
        if (total_ > max_) {
            throw Error(what_ + ": size exceeds the limit of " + std::to_string(max_) + " bytes");
        }
        return got;
    }
    size_t read(void* buf, size_t n) override {
        size_t got = inner_->read(buf, n);
        total_ += got;
        if (total_ > max_) {
            throw Error(what_ + ": size exceeds the limit of " + std::to_string(max_) + " bytes");
        }
        return got;
    }

  private:
    std::unique_ptr<Reader> inner_;
    std::string what_;
    uint64_t max_;
    uint64_t total_ = 0;
};

}  // namespace

std::unique_ptr<Reader> open_decompressed(std::unique_ptr<Reader> inner, const std::string& what,
                                          uint64_t max_output, uint64_t max_ratio,
                                          Compression* detected) {
    auto peek = std::make_unique<PeekReader>(std::move(inner));
    Compression c = detect_compression(peek->peek(6));
    if (detected) *detected = c;
    switch (c) {
        case Compression::none:
            return std::make_unique<CountingReader>(std::move(peek), what, max_output);
        case Compression::gzip:
            return std::make_unique<GzipReader>(std::move(peek), what, max_output, max_ratio);
        case Compression::zstd:
            return std::make_unique<ZstdReader>(std::move(peek), what, max_output, max_ratio);
        case Compression::xz:
            return std::make_unique<XzReader>(std::move(peek), what, max_output, max_ratio);
        case Compression::bzip2:
            throw Error(what + ": bzip2 compression is not supported");
    }
    throw Error(what + ": unknown compression");
}

}  // namespace d2a
