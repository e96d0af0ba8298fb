// Reads the entries of one (already decompressed) layer tar with libarchive.
#pragma once

#include <memory>
#include <string>

#include "flatten/entry.hpp"
#include "util/stream.hpp"

struct archive;

namespace d2a {

class LayerReader {
  public:
    LayerReader(std::unique_ptr<Reader> tar_stream, std::string what);
    LayerReader(const LayerReader&) = delete;
    LayerReader& operator=(const LayerReader&) = delete;
    ~LayerReader();

    // Fills `entry` with the next header; false at end of the layer. The entry's raw name
    // is normalised; a name leaving the root is an error.
    bool next(Entry& entry);
    // Reads the current entry's data (regular files); 0 at its end.
    size_t read_data(void* buf, size_t n);
    [[nodiscard]] const std::string& what() const { return what_; }

    // A Reader over the current entry's data.
    class DataReader final : public Reader {
      public:
        explicit DataReader(LayerReader& layer) : layer_(layer) {}
        size_t read(void* buf, size_t n) override { return layer_.read_data(buf, n); }

      private:
        LayerReader& layer_;
    };

  private:
    void drain();
    static long read_callback(archive*, void* self, const void** buffer);
    static int64_t skip_callback(archive*, void* self, int64_t request);
    std::unique_ptr<Reader> stream_;
    std::string what_;
    archive* archive_ = nullptr;
    std::vector<char> buffer_;
    std::string pending_error_;
    bool empty_ = false;
};

}  // namespace d2a
