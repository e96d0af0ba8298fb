/* Converts IMAGE into OUTDIR through the C API, printing each ACI's path and image ID;
 * exits 1 with the error on a failed conversion. With "--errors" instead, makes three
 * failing calls (a bad flag, a missing file, the tampered archive IMAGE) and prints each
 * error, then "alive": the process goes on after each. With "--batch OUTDIR IMAGE...",
 * converts them as one batch, printing each image's outcome and then the batch's. */
#include <docker2aci/docker2aci.h>
#include <stdio.h>
#include <string.h>

static void on_log(void *user, int level, const char *message) {
    fprintf(stderr, "log %d: %s\n", level, message);
    ++*(int *)user;
}

static void on_each(void *user, const d2a_result *r) {
    (void)user;
    if (d2a_result_error(r))
        printf("%s: error: %s\n", d2a_result_image(r), d2a_result_error(r));
    else if (d2a_result_skipped(r))
        printf("%s: skipped\n", d2a_result_image(r));
    else
        printf("%s: %s %s\n", d2a_result_image(r), d2a_result_path(r, 0), d2a_result_name(r, 0));
}

static int batch(int argc, char **argv) {
    d2a_options *o = d2a_options_new();
    d2a_options_set(o, "output-dir", argv[2]);
    d2a_result *r = d2a_convert_batch(o, (const char *const *)argv + 3, (size_t)(argc - 3), 2,
                                      on_each, NULL);
    printf("batch: %s\n", d2a_result_error(r) ? d2a_result_error(r) : "ok");
    d2a_result_free(r);
    d2a_options_free(o);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--batch") == 0) return batch(argc, argv);
    if (argc != 3) {
        fprintf(stderr, "usage: convert OUTDIR|--errors IMAGE\n");
        return 2;
    }
    d2a_options *o = d2a_options_new();
    int logged = 0;
    d2a_options_set_log(o, on_log, &logged);
    if (strcmp(argv[1], "--errors") == 0) {
        const char *bad[][2] = {{"compression", "brotli"},
                                {"no-such-flag", "1"},
                                {"nosquash", "maybe"},
                                {"json", "true"}};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
            int status = d2a_options_set(o, bad[i][0], bad[i][1]);
            printf("set: %d %s\n", status, d2a_options_error(o));
        }
        d2a_options_set(o, "output-dir", "errors-out"); /* an empty directory */
        d2a_result *r = d2a_convert(o, "no-such-file.tar");
        printf("convert: %s (%zu)\n", d2a_result_error(r), d2a_result_count(r));
        d2a_result_free(r);
        r = d2a_convert(o, argv[2]);
        printf("convert: %s (%zu, %s)\n", d2a_result_error(r), d2a_result_count(r),
               d2a_result_path(r, 0) ? "a path" : "no path");
        d2a_result_free(r);
        d2a_options_free(o);
        printf("alive\n");
        return 0;
    }
    if (d2a_options_set(o, "output-dir", argv[1]) != 0) {
        fprintf(stderr, "%s\n", d2a_options_error(o));
        return 1;
    }
    d2a_result *r = d2a_convert(o, argv[2]);
    int status = 0;
    if (d2a_result_error(r)) {
        fprintf(stderr, "Error: %s\n", d2a_result_error(r));
        status = 1;
    }
    for (size_t i = 0; i < d2a_result_count(r); ++i)
        printf("%s %s\n", d2a_result_path(r, i), d2a_result_image_id(r, i));
    if (d2a_result_skipped(r)) printf("skipped\n");
    d2a_result_free(r);
    d2a_options_free(o);
    return status;
}
