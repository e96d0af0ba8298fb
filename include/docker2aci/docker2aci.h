/* docker2aci's C API: convert a Docker or OCI image into App Container Images (ACI) from
 * any language that can call C (Go through cgo, Python through ctypes, Rust).
 *
 *   d2a_options *o = d2a_options_new();
 *   if (d2a_options_set(o, "output-dir", "out") != 0) puts(d2a_options_error(o));
 *   d2a_result *r = d2a_convert(o, "docker://quay.io/me/app:1.0");
 *   if (d2a_result_error(r)) puts(d2a_result_error(r));
 *   else for (size_t i = 0; i < d2a_result_count(r); ++i) puts(d2a_result_path(r, i));
 *   d2a_result_free(r);
 *   d2a_options_free(o);
 *
 * Handles are opaque. Strings are UTF-8 and belong to the library: a string from an
 * options handle lives until the next call on that handle or its free, one from a result
 * until the result is freed. No C++ exception ever crosses this interface, and nothing here
 * prints or exits: errors come back as strings. An options handle may be used by one thread
 * at a time; d2a_convert() calls on different handles, or on one handle that nobody
 * changes meanwhile, may run at once.
 */
#ifndef DOCKER2ACI_DOCKER2ACI_H
#define DOCKER2ACI_DOCKER2ACI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define D2A_API __attribute__((visibility("default")))
#else
#define D2A_API
#endif

typedef struct d2a_options d2a_options;
typedef struct d2a_result d2a_result;

/* A new set of options, as the command line's defaults; NULL only when out of memory. */
D2A_API d2a_options *d2a_options_new(void);

/* Sets one option by the command line's long flag name without "--", e.g. "output-dir",
 * "compression", "compression-level", "nosquash" ("true" or "false"), "platform",
 * "cache-dir", "sign-key", "username", "insecure-allow-http". A flag that the command line
 * repeats ("cert-dir") adds a value each time; any other replaces its last value. Besides
 * the flags: "password", the registry password for "username" (the command line reads it
 * from standard input or DOCKER2ACI_PASSWORD, the library from here only), and "debug"
 * ("true": notes of the blob cache and the registry go to the log callback).
 * The command line's own flags ("help", "version", "json", "quiet", "batch", "jobs",
 * "shard", "password-stdin") are not options of a conversion and are refused.
 * "known-manifest" (repeated) names manifest digests the caller holds already: such an
 * image is skipped once resolved, before anything is downloaded or written.
 * Returns 0 on success, -1 for an unknown flag or a bad value (the options are then as
 * they were; d2a_options_error() says why). */
D2A_API int d2a_options_set(d2a_options *o, const char *flag, const char *value);

/* Why the last d2a_options_set() on `o` failed; "" after a success. */
D2A_API const char *d2a_options_error(const d2a_options *o);

/* Messages a conversion has for a person: level 0 is a warning (e.g. a signing key rkt
 * cannot verify), 1 a note ("debug" on). Called on the converting thread or on one of the
 * library's, never on two at once for one conversion. NULL turns logging off. */
typedef void (*d2a_log_fn)(void *user, int level, const char *message);
D2A_API void d2a_options_set_log(d2a_options *o, d2a_log_fn log, void *user);

/* Converts one image: a docker save or OCI archive file, "-" for standard input, an OCI
 * layout directory, or docker://[REGISTRY/]NAME[:TAG|@DIGEST]. Writes the ACIs into the
 * output directory, each whole or not at all. Never returns NULL (out of memory is an
 * error result like any other). */
D2A_API d2a_result *d2a_convert(const d2a_options *o, const char *image);

/* NULL on success, else the error: one line, as the command line prints it after "Error: ". */
D2A_API const char *d2a_result_error(const d2a_result *r);

/* How many ACIs were written: one, one per layer with "nosquash", 0 on an error or when
 * skipped. */
D2A_API size_t d2a_result_count(const d2a_result *r);

/* The i-th ACI's path, and its image ID as rkt computes it ("sha512-" and the hex SHA-512
 * of the uncompressed ACI); NULL when i >= d2a_result_count(r). */
D2A_API const char *d2a_result_path(const d2a_result *r, size_t i);
D2A_API const char *d2a_result_image_id(const d2a_result *r, size_t i);

/* The i-th ACI's AC name, and its image manifest (JSON); NULL when i >= the count. */
D2A_API const char *d2a_result_name(const d2a_result *r, size_t i);
D2A_API const char *d2a_result_manifest(const d2a_result *r, size_t i);

/* 1 when the ACIs in place were already made from this image (nothing written; "force"
 * converts anyway), or its manifest digest is a "known-manifest", else 0. */
D2A_API int d2a_result_skipped(const d2a_result *r);

/* The image as given, and its manifest digest ("sha256:...", "" when it has none or was
 * never resolved): for telling a batch's results apart. */
D2A_API const char *d2a_result_image(const d2a_result *r);
D2A_API const char *d2a_result_manifest_digest(const d2a_result *r);

/* Converts `count` images, `jobs` (1 to 64) at a time, as the command line's --batch
 * does: file names claimed in list order (the later of two images of one name fails), a
 * discovery site's pages written once at the end. `each` (may be NULL) is called once per
 * image as it ends, one call at a time, with a result that lives until `each` returns.
 * Returns a result whose error is NULL when every image converted or was skipped, else
 * why the batch failed ("2 of 5 images failed", or what stopped it from starting); its
 * count is 0. Never NULL. */
typedef void (*d2a_each_fn)(void *user, const d2a_result *r);
D2A_API d2a_result *d2a_convert_batch(const d2a_options *o, const char *const *images,
                                      size_t count, int jobs, d2a_each_fn each, void *user);

D2A_API void d2a_result_free(d2a_result *r);
D2A_API void d2a_options_free(d2a_options *o);

/* The library's version, as `docker2aci --version` prints it, e.g. "v0.18.0". */
D2A_API const char *d2a_version(void);

#ifdef __cplusplus
}
#endif

#endif /* DOCKER2ACI_DOCKER2ACI_H */
