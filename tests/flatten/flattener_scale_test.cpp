// Scale cases: inputs whose cost was once quadratic or unbounded. They run against a
// ctest timeout, never a timing assert: before the fix the hard-link case took hours.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>

#include "flatten/flattener.hpp"
#include "support/layer_builder.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

const Limits kDefaultLimits{};  // a flattener keeps a reference: not a temporary

// A ustar header block for `name` (type '0' file, '1' hard link to `link`).
std::string ustar_header(const std::string& name, char type, const std::string& link,
                         uint64_t size) {
    std::string h(512, '\0');
    std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
    std::snprintf(h.data() + 100, 8, "%07o", 0644);
    std::snprintf(h.data() + 108, 8, "%07o", 0);
    std::snprintf(h.data() + 116, 8, "%07o", 0);
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(h.data() + 136, 12, "%011o", 0);
    h[156] = type;
    std::memcpy(h.data() + 157, link.data(), std::min<size_t>(link.size(), 100));
    std::memcpy(h.data() + 257, "ustar", 6);
    std::memcpy(h.data() + 263, "00", 2);
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h.data() + 148, 8, "%06o", sum);
    h[155] = ' ';
    return h;
}

// Streams a tar of `count` entries made by `entry(i)` without holding it in memory.
class SyntheticTar final : public Reader {
  public:
    SyntheticTar(size_t count, std::function<std::string(size_t)> entry)
        : count_(count), entry_(std::move(entry)) {}
    size_t read(void* buf, size_t n) override {
        size_t done = 0;
        while (done < n) {
            if (pos_ == block_.size()) {
                if (next_ < count_) {
                    block_ = entry_(next_++);
                } else if (!ended_) {
                    block_ = std::string(1024, '\0');
                    ended_ = true;
                } else {
                    break;
                }
                pos_ = 0;
            }
            size_t take = std::min(n - done, block_.size() - pos_);
            std::memcpy(static_cast<char*>(buf) + done, block_.data() + pos_, take);
            pos_ += take;
            done += take;
        }
        return done;
    }

  private:
    size_t count_;
    std::function<std::string(size_t)> entry_;
    size_t next_ = 0;
    std::string block_;
    size_t pos_ = 0;
    bool ended_ = false;
};

class CountingSink final : public EntrySink {
  public:
    void add(const Entry& e, Reader*) override {
        ++entries;
        if (e.type == EntryType::hardlink) ++links;
    }
    size_t entries = 0;
    size_t links = 0;
};

// One file with a million hard links, then a layer that replaces the links one by one:
// every replacement unlinks one path of the same file.
TEST(FlattenerScale, MillionHardLinksReplacedOneByOne) {
    constexpr size_t kLinks = 1'000'000;
    auto link_name = [](size_t i) { return "l" + std::to_string(i); };
    auto opener = [&](size_t layer, LayerPass) -> std::unique_ptr<Reader> {
        if (layer == 0) {
            return std::make_unique<SyntheticTar>(kLinks + 1, [&](size_t i) {
                if (i == 0) return ustar_header("target", '0', "", 0);
                return ustar_header(link_name(i - 1), '1', "target", 0);
            });
        }
        return std::make_unique<SyntheticTar>(
            kLinks, [&](size_t i) { return ustar_header(link_name(i), '0', "", 0); });
    };
    FlattenOptions options;
    options.add_stdio_links = false;
    Flattener f(2, opener, options, kDefaultLimits);
    f.scan();
    CountingSink sink;
    f.emit(sink);
    EXPECT_EQ(sink.entries, kLinks + 1);  // the target and a million separate files
    EXPECT_EQ(sink.links, 0u);
}

// --max-unpacked-size bounds the image: two layers of 40 KB each pass a 50 KB limit one by
// one, not together.
TEST(FlattenerScale, UnpackedLimitCountsTheWholeImage) {
    std::vector<std::string> tars;
    for (const char* name : {"a", "b"}) {
        tars.push_back(testing::LayerBuilder().file(name, std::string(40000, 'x')).tar());
    }
    FlattenOptions options;
    Limits limits;
    limits.max_unpacked_bytes = 50000;
    Flattener one(
        1, [&](size_t, LayerPass) { return std::make_unique<MemoryReader>(tars[0]); }, options,
        limits);
    EXPECT_NO_THROW(one.scan());
    Flattener both(
        2, [&](size_t i, LayerPass) { return std::make_unique<MemoryReader>(tars[i]); }, options,
        limits);
    try {
        both.scan();
        FAIL() << "two layers over the limit together converted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("layers add up to more than 50000 bytes"),
                  std::string::npos)
            << e.what();
    }
}

// Names read ahead of the tree are bounded: 100,000 entries of 12-byte names (1.2 MB) pass
// a 2 MB bound and fail a 1 MB one, naming the layer; two such layers pass the 2 MB bound
// when scanned one after the other (an applied layer's names are no longer pending).
TEST(FlattenerScale, PendingNamesAreBounded) {
    constexpr size_t kEntries = 100'000;
    auto opener = [&](size_t layer, LayerPass) -> std::unique_ptr<Reader> {
        return std::make_unique<SyntheticTar>(kEntries, [layer](size_t i) {
            char name[16];
            std::snprintf(name, sizeof name, "%c/f%09zu", static_cast<char>('a' + layer), i);
            return ustar_header(name, '0', "", 0);
        });
    };
    FlattenOptions options;
    options.add_stdio_links = false;
    Limits limits;
    limits.max_pending_name_bytes = 2'000'000;
    Flattener fits(2, opener, options, limits);
    EXPECT_NO_THROW(fits.scan());
    CountingSink sink;
    fits.emit(sink);
    EXPECT_EQ(sink.entries, 2 * kEntries + 2);  // and the directories a/ and b/

    Limits tighter;
    tighter.max_pending_name_bytes = 1'000'000;
    Flattener over(2, opener, options, tighter);
    try {
        over.scan();
        FAIL() << "1.2 MB of pending names passed a 1 MB bound";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "layer 1/2: entry names add up to more than 1000000 bytes");
    }
}

// A layer that writes a captured path 2000 times (1 MiB each) keeps one copy, the last:
// holding every copy would take 2 GiB.
TEST(FlattenerScale, CapturedPathKeepsTheLastCopyOnly) {
    constexpr size_t kCopies = 2000;
    constexpr size_t kSize = 1 << 20;
    auto opener = [&](size_t, LayerPass) -> std::unique_ptr<Reader> {
        return std::make_unique<SyntheticTar>(kCopies, [&](size_t i) {
            return ustar_header("etc/passwd", '0', "", kSize) +
                   std::string(kSize, static_cast<char>('a' + i % 26));
        });
    };
    FlattenOptions options;
    options.capture_paths = {"etc/passwd"};
    Flattener f(1, opener, options, kDefaultLimits);
    f.scan();
    EXPECT_EQ(f.captured("etc/passwd"),
              std::optional<std::string>(std::string(kSize, 'a' + (kCopies - 1) % 26)));
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    EXPECT_LT(usage.ru_maxrss, 1L << 20) << "peak RSS in KiB";
}

}  // namespace
}  // namespace d2a
