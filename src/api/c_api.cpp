// The C API (include/docker2aci/docker2aci.h) over the C++ API
// (include/docker2aci/docker2aci.hpp): handles hold its Options and Outcomes.
//
// Nothing may cross into C: every entry point catches everything, and allocation failures
// end as an error string (a preallocated one when even that cannot be made).
#include <docker2aci/docker2aci.h>

#include <docker2aci/docker2aci.hpp>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "version.hpp"

struct d2a_options {
    docker2aci::Options options;
    std::string error;
};

struct d2a_result {
    std::optional<std::string> error;
    docker2aci::Outcome outcome;
};

namespace {

// The result given when no other can be allocated: its error is static.
d2a_result out_of_memory_result{std::string(), {}};

std::string current_error() {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        return "out of memory";
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

// The ACIs a result reports: none when skipped (those in place were not written now).
const docker2aci::Aci* aci(const d2a_result* r, size_t i) {
    if (!r || r->outcome.skipped || i >= r->outcome.acis.size()) return nullptr;
    return &r->outcome.acis[i];
}

// Runs fn into a new result; an error (or a failed allocation) makes it an error result.
template <class F>
d2a_result* into_result(F&& fn) {
    d2a_result* result = new (std::nothrow) d2a_result();
    if (!result) return &out_of_memory_result;
    try {
        fn(*result);
    } catch (...) {
        try {
            result->outcome.acis.clear();
            result->error = current_error();
        } catch (...) {
            delete result;
            return &out_of_memory_result;
        }
    }
    return result;
}

}  // namespace

extern "C" {

d2a_options* d2a_options_new(void) {
    return new (std::nothrow) d2a_options();
}

int d2a_options_set(d2a_options* o, const char* flag, const char* value) {
    if (!o) return -1;
    try {
        if (!flag || !value) throw docker2aci::UsageError("flag and value must not be NULL");
        o->options.set(flag, value);
        o->error.clear();
        return 0;
    } catch (...) {
        try {
            o->error = current_error();
        } catch (...) {
            o->error.clear();  // no memory for the message: "" says nothing more
        }
        return -1;
    }
}

const char* d2a_options_error(const d2a_options* o) {
    return o ? o->error.c_str() : "no options (NULL)";
}

void d2a_options_set_log(d2a_options* o, d2a_log_fn log, void* user) {
    if (!o) return;
    try {
        if (!log) {
            o->options.set_log({});
            return;
        }
        o->options.set_log([log, user](docker2aci::LogLevel level, const std::string& message) {
            log(user, static_cast<int>(level), message.c_str());
        });
    } catch (...) {  // no memory for the callback: logging stays as it was
    }
}

d2a_result* d2a_convert(const d2a_options* o, const char* image) {
    return into_result([&](d2a_result& result) {
        if (!o) throw docker2aci::Error("no options (NULL)");
        if (!image) throw docker2aci::Error("no image (NULL)");
        result.outcome.reference = image;
        result.outcome = docker2aci::convert(o->options, image);
    });
}

d2a_result* d2a_convert_batch(const d2a_options* o, const char* const* images, size_t count,
                              int jobs, d2a_each_fn each, void* user) {
    return into_result([&](d2a_result& result) {
        if (!o) throw docker2aci::Error("no options (NULL)");
        if (!images && count > 0) throw docker2aci::Error("no images (NULL)");
        std::vector<std::string> list;
        for (size_t i = 0; i < count; ++i) {
            if (!images[i]) throw docker2aci::Error("image " + std::to_string(i) + " is NULL");
            list.emplace_back(images[i]);
        }
        docker2aci::Batch batch(o->options, list, jobs);
        size_t failed = 0;
        batch.run([&](const docker2aci::Outcome& outcome) {
            if (!outcome.ok()) ++failed;
            if (!each) return;
            d2a_result one;
            one.outcome = outcome;
            if (!outcome.ok()) one.error = outcome.error;
            each(user, &one);
        });
        if (failed) {
            result.error = std::to_string(failed) + " of " + std::to_string(count) +
                           (count == 1 ? " image" : " images") + " failed";
        }
    });
}

const char* d2a_result_error(const d2a_result* r) {
    if (!r) return "no result (NULL)";
    if (r == &out_of_memory_result) return "out of memory";
    return r->error ? r->error->c_str() : nullptr;
}

size_t d2a_result_count(const d2a_result* r) {
    return r && !r->error && !r->outcome.skipped ? r->outcome.acis.size() : 0;
}

const char* d2a_result_path(const d2a_result* r, size_t i) {
    const docker2aci::Aci* a = aci(r, i);
    return a ? a->path.c_str() : nullptr;
}

const char* d2a_result_image_id(const d2a_result* r, size_t i) {
    const docker2aci::Aci* a = aci(r, i);
    return a ? a->image_id.c_str() : nullptr;
}

const char* d2a_result_name(const d2a_result* r, size_t i) {
    const docker2aci::Aci* a = aci(r, i);
    return a ? a->name.c_str() : nullptr;
}

const char* d2a_result_manifest(const d2a_result* r, size_t i) {
    const docker2aci::Aci* a = aci(r, i);
    return a ? a->manifest.c_str() : nullptr;
}

int d2a_result_skipped(const d2a_result* r) {
    return r && !r->error && r->outcome.skipped ? 1 : 0;
}

const char* d2a_result_image(const d2a_result* r) {
    return r ? r->outcome.reference.c_str() : "";
}

const char* d2a_result_manifest_digest(const d2a_result* r) {
    return r ? r->outcome.manifest_digest.c_str() : "";
}

void d2a_result_free(d2a_result* r) {
    if (r != &out_of_memory_result) delete r;
}

void d2a_options_free(d2a_options* o) {
    delete o;
}

const char* d2a_version(void) {
    return d2a::kVersion;
}

}  // extern "C"
