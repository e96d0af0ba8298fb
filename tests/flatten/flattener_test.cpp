#include "flatten/flattener.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

#include "support/layer_builder.hpp"
#include "codec/decompress.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

const Limits kDefaultLimits{};  // a flattener keeps a reference: not a temporary

using testing::CollectingSink;
using testing::LayerBuilder;
using Lines = std::vector<std::string>;

Lines flatten_with(const std::vector<std::string>& tars, bool stdio, unsigned scan_threads) {
    FlattenOptions options;
    options.add_stdio_links = stdio;
    options.scan_threads = scan_threads;
    const Limits limits{};
    Flattener f(
        tars.size(), [&](size_t i, LayerPass) { return std::make_unique<MemoryReader>(tars[i]); },
        options, limits);
    f.scan();
    CollectingSink sink;
    f.emit(sink);
    return sink.lines;
}

// Every case runs with the layers read one by one and read at once: same tree.
Lines flatten(const std::vector<LayerBuilder>& layers, bool stdio = false) {
    std::vector<std::string> tars;
    for (const auto& l : layers) tars.push_back(l.tar());
    Lines one_by_one = flatten_with(tars, stdio, 1);
    EXPECT_EQ(flatten_with(tars, stdio, 3), one_by_one)
        << "reading layers at once changed the tree";
    return one_by_one;
}

std::string scan_error(const std::vector<std::string>& tars, unsigned threads,
                       uint64_t max_entries) {
    FlattenOptions o;
    o.scan_threads = threads;
    Limits limits;
    limits.max_entries = max_entries;
    Flattener f(
        tars.size(), [&](size_t i, LayerPass) { return std::make_unique<MemoryReader>(tars[i]); },
        o, limits);
    try {
        f.scan();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(Flattener, SingleLayerKeepsOrderAndContent) {
    LayerBuilder l;
    l.dir("etc").file("etc/hosts", "h").symlink("lnk", "/etc/hosts");
    EXPECT_EQ(flatten({l}), (Lines{"etc dir", "etc/hosts file h", "lnk symlink -> /etc/hosts"}));
}

TEST(Flattener, NormalisesNamesAndCreatesMissingParents) {
    LayerBuilder l;
    l.file("./a/b/c", "x").file("/d", "y");
    EXPECT_EQ(flatten({l}), (Lines{"a dir", "a/b dir", "a/b/c file x", "d file y"}));
}

TEST(Flattener, WhiteoutRemovesLowerFileAndSubtree) {
    LayerBuilder lower, upper;
    lower.dir("d").file("d/x", "1").file("keep", "k").file("gone", "g");
    upper.whiteout("", "d").whiteout("", "gone");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"keep file k"}));
}

TEST(Flattener, WhiteoutDoesNotHideSameLayerFileWhereverItStands) {
    LayerBuilder lower, upper;
    lower.file("f", "old");
    upper.file("f", "new").whiteout("", "f");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"f file new"}));
}

TEST(Flattener, OpaqueEmptiesLowerContentOnlyEvenWhenItComesLast) {
    LayerBuilder lower, upper;
    lower.dir("d").file("d/old", "o").dir("d/sub").file("d/sub/deep", "x");
    upper.dir("d").file("d/new", "n").dir("d/sub").opaque("d");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"d dir", "d/new file n", "d/sub dir"}));
}

TEST(Flattener, DirectoryReplacedByFileLosesChildren) {
    LayerBuilder lower, upper;
    lower.dir("p").file("p/child", "c");
    upper.file("p", "now a file");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"p file now a file"}));
}

TEST(Flattener, FileReplacedByDirectoryAndBack) {
    LayerBuilder a, b, c;
    a.file("p", "file");
    b.dir("p").file("p/in", "i");
    c.file("p", "file again");
    EXPECT_EQ(flatten({a, b}), (Lines{"p dir", "p/in file i"}));
    EXPECT_EQ(flatten({a, b, c}), (Lines{"p file file again"}));
}

TEST(Flattener, DirectoryReplacedBySymlink) {
    LayerBuilder lower, upper;
    lower.dir("lib").file("lib/x", "x");
    upper.symlink("lib", "usr/lib");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"lib symlink -> usr/lib"}));
}

TEST(Flattener, DirectoryMetadataFromTopLayerEmittedBeforeChildren) {
    LayerBuilder lower, upper;
    lower.dir("d", 0700).file("d/a", "a");
    upper.dir("d", 0755);
    std::vector<std::string> tars{lower.tar(), upper.tar()};
    FlattenOptions o;
    o.add_stdio_links = false;
    Flattener f(
        2, [&](size_t i, LayerPass) { return std::make_unique<MemoryReader>(tars[i]); }, o, kDefaultLimits);
    struct ModeSink : EntrySink {
        std::vector<std::pair<std::string, uint32_t>> seen;
        void add(const Entry& e, Reader*) override { seen.emplace_back(e.path, e.mode); }
    } sink;
    f.emit(sink);
    ASSERT_EQ(sink.seen.size(), 2u);
    EXPECT_EQ(sink.seen[0], (std::pair<std::string, uint32_t>{"d", 0755}));
    EXPECT_EQ(sink.seen[1].first, "d/a");
}

TEST(Flattener, HardLinksKeepTheirGroup) {
    LayerBuilder l;
    l.file("t", "data").hardlink("l1", "t").hardlink("l2", "t");
    EXPECT_EQ(flatten({l}), (Lines{"t file data", "l1 hardlink -> t", "l2 hardlink -> t"}));
}

TEST(Flattener, LinkWhoseTargetIsDeletedLaterKeepsContent) {
    LayerBuilder lower, upper;
    lower.file("t", "data").hardlink("l1", "t").hardlink("l2", "t");
    upper.whiteout("", "t");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"l1 file data", "l2 hardlink -> l1"}));
}

TEST(Flattener, LinkWhoseTargetIsReplacedLaterKeepsOldContent) {
    LayerBuilder lower, upper;
    lower.file("t", "old").hardlink("l", "t");
    upper.file("t", "new");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"l file old", "t file new"}));
}

TEST(Flattener, LinkToLowerLayerFile) {
    LayerBuilder lower, upper;
    lower.file("t", "data");
    upper.dir("x").hardlink("x/l", "t");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"t file data", "x dir", "x/l hardlink -> t"}));
}

TEST(Flattener, HardLinkErrors) {
    LayerBuilder missing, to_dir, forward;
    missing.hardlink("l", "nothing");
    to_dir.dir("d").hardlink("l", "d");
    forward.hardlink("l", "t").file("t", "x");
    EXPECT_THROW(flatten({missing}), Error);
    EXPECT_THROW(flatten({to_dir}), Error);
    EXPECT_THROW(flatten({forward}), Error);
}

TEST(Flattener, EntryUnderSymlinkedParentLandsAtItsPlainPath) {
    LayerBuilder lower, upper;
    lower.symlink("foo", "/");
    upper.file("foo/etc/x", "inside");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"foo dir", "foo/etc dir", "foo/etc/x file inside"}));
}

TEST(Flattener, WhiteoutUnderSymlinkedParentRemovesNothing) {
    LayerBuilder lower, upper;
    lower.dir("real").file("real/f", "f").symlink("alias", "real");
    upper.whiteout("alias", "f");
    Lines got = flatten({lower, upper});
    EXPECT_EQ(got, (Lines{"real dir", "real/f file f", "alias symlink -> real"}));
}

TEST(Flattener, AufsMetadataIsSkipped) {
    LayerBuilder l;
    l.file(".wh..wh.aufs", "").dir(".wh..wh.plnk").file(".wh..wh.plnk/123.456", "x").file("a", "a");
    EXPECT_EQ(flatten({l}), (Lines{"a file a"}));
}

TEST(Flattener, EmptiedImplicitDirectoryIsKept) {
    LayerBuilder lower, upper;
    lower.file("a/b", "x");
    upper.whiteout("a", "b");
    EXPECT_EQ(flatten({lower, upper}), (Lines{"a dir"}));
}

TEST(Flattener, StdioLinksAddedOnlyWhenMissing) {
    LayerBuilder l;
    l.dir("dev").symlink("dev/stdout", "/proc/self/fd/1");
    EXPECT_EQ(flatten({l}, true),
              (Lines{"dev dir", "dev/stdout symlink -> /proc/self/fd/1",
                     "dev/stdin symlink -> /proc/self/fd/0", "dev/stderr symlink -> /dev/console",
                     "dev/fd symlink -> /proc/self/fd"}));
}

TEST(Flattener, CapturesFinalPasswd) {
    LayerBuilder lower, upper;
    lower.file("etc/passwd", "old");
    upper.file("etc/passwd", "new");
    std::vector<std::string> tars{lower.tar(), upper.tar()};
    FlattenOptions o;
    o.capture_paths = {"etc/passwd"};
    Flattener f(
        2, [&](size_t i, LayerPass) { return std::make_unique<MemoryReader>(tars[i]); }, o, kDefaultLimits);
    f.scan();
    EXPECT_EQ(f.captured("etc/passwd"), std::optional<std::string>("new"));
    EXPECT_EQ(f.captured("etc/group"), std::nullopt);
}

TEST(Flattener, EntryLimit) {
    LayerBuilder l;
    l.file("a", "").file("b", "").file("c", "");
    std::string tar = l.tar();
    FlattenOptions o;
    Limits limits;
    limits.max_entries = 2;
    Flattener f(
        1, [&](size_t, LayerPass) { return std::make_unique<MemoryReader>(tar); }, o, limits);
    EXPECT_THROW(f.scan(), Error);
}

TEST(Flattener, ManyLayersFewThreads) {
    std::vector<std::string> tars;
    for (int i = 0; i < 9; ++i) {
        LayerBuilder l;
        l.file("f", "v" + std::to_string(i)).file("only" + std::to_string(i), "x");
        if (i > 0) l.whiteout("", "only" + std::to_string(i - 1));
        if (i % 3 == 2) l.opaque("d");
        l.file("d/from" + std::to_string(i), "y");
        tars.push_back(l.tar());
    }
    Lines expected{"f file v8", "only8 file x", "d dir", "d/from8 file y"};
    EXPECT_EQ(flatten_with(tars, false, 1), expected);
    EXPECT_EQ(flatten_with(tars, false, 2), expected);
    EXPECT_EQ(flatten_with(tars, false, 0), expected);
}

TEST(Flattener, ParallelScanReportsTheLowestFailingLayer) {
    LayerBuilder good, bad_whiteout, bad_link, big;
    good.file("a", "1");
    bad_whiteout.file(".wh..", "");
    bad_link.hardlink("x", "missing");
    for (int i = 0; i < 50; ++i) big.file("f" + std::to_string(i), "");
    std::vector<std::string> tars{good.tar(), big.tar(), bad_whiteout.tar(), bad_link.tar()};
    for (unsigned threads : {1u, 2u, 4u}) {
        EXPECT_EQ(scan_error(tars, threads, 1000), "layer 3/4: malformed whiteout \".wh..\"");
        // The limit counts the image as a whole, across layers read apart.
        EXPECT_EQ(scan_error(tars, threads, 50), "layer 2/4: more than 50 entries in the image");
    }
    std::vector<std::string> link_last{good.tar(), big.tar(), bad_link.tar()};
    EXPECT_EQ(scan_error(link_last, 3, 1000), "layer 3/3: hard link x points to missing missing");
}

// Corruption inside file data that the scan skips (zstd notices it mid-stream) must fail,
// not loop: libarchive retries
// a skip callback that reports a negative count forever.
TEST(Flattener, CorruptCompressedDataInSkippedFileFails) {
    LayerBuilder l;
    std::string big;
    for (int i = 0; big.size() < (1 << 20); ++i) big += std::to_string(i * 7919) + " ";
    l.file("big", big).file("after", "x");
    std::string tar = l.tar();
    std::string gz(ZSTD_compressBound(tar.size()), '\0');
    gz.resize(ZSTD_compress(gz.data(), gz.size(), tar.data(), tar.size(), 3));
    for (size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) gz[i] = static_cast<char>(~gz[i]);
    FlattenOptions o;
    Flattener f(
        1,
        [&](size_t, LayerPass) {
            return open_decompressed(std::make_unique<MemoryReader>(gz), "layer", 1 << 30, 2000);
        },
        o, kDefaultLimits);
    EXPECT_THROW(f.scan(), Error);
}

TEST(Whiteouts, Classification) {
    EXPECT_EQ(classify_whiteout("file"), WhiteoutKind::none);
    EXPECT_EQ(classify_whiteout(".wh.file"), WhiteoutKind::remove);
    EXPECT_EQ(classify_whiteout(".wh..wh..opq"), WhiteoutKind::opaque);
    EXPECT_EQ(classify_whiteout(".wh..wh.plnk"), WhiteoutKind::metadata);
    EXPECT_THROW(classify_whiteout(".wh."), Error);
    EXPECT_THROW(classify_whiteout(".wh.."), Error);
    EXPECT_THROW(classify_whiteout(".wh..."), Error);
}

}  // namespace
}  // namespace d2a
