// The C API through cgo: converts IMAGE into OUTDIR and prints each ACI's path and image
// ID. Built with pkg-config's flags for docker2aci.
package main

// #cgo pkg-config: docker2aci
// #include <stdlib.h>
// #include <docker2aci/docker2aci.h>
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func set(o *C.d2a_options, flag, value string) error {
	f, v := C.CString(flag), C.CString(value)
	defer C.free(unsafe.Pointer(f))
	defer C.free(unsafe.Pointer(v))
	if C.d2a_options_set(o, f, v) != 0 {
		return fmt.Errorf("%s", C.GoString(C.d2a_options_error(o)))
	}
	return nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: convert-go OUTDIR IMAGE")
		os.Exit(2)
	}
	o := C.d2a_options_new()
	defer C.d2a_options_free(o)
	if err := set(o, "output-dir", os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	image := C.CString(os.Args[2])
	defer C.free(unsafe.Pointer(image))
	r := C.d2a_convert(o, image)
	defer C.d2a_result_free(r)
	if e := C.d2a_result_error(r); e != nil {
		fmt.Fprintln(os.Stderr, "Error:", C.GoString(e))
		os.Exit(1)
	}
	for i := C.size_t(0); i < C.d2a_result_count(r); i++ {
		fmt.Println(C.GoString(C.d2a_result_path(r, i)), C.GoString(C.d2a_result_image_id(r, i)))
	}
}
