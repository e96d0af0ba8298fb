#!/usr/bin/env python3
"""The C API through ctypes: converts IMAGE into OUTDIR and prints each ACI's path.

  python3 convert.py LIBRARY OUTDIR IMAGE
"""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.d2a_options_new.restype = ctypes.c_void_p
lib.d2a_options_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
lib.d2a_options_error.argtypes = [ctypes.c_void_p]
lib.d2a_options_error.restype = ctypes.c_char_p
lib.d2a_convert.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.d2a_convert.restype = ctypes.c_void_p
lib.d2a_result_error.argtypes = [ctypes.c_void_p]
lib.d2a_result_error.restype = ctypes.c_char_p
lib.d2a_result_count.argtypes = [ctypes.c_void_p]
lib.d2a_result_count.restype = ctypes.c_size_t
lib.d2a_result_path.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.d2a_result_path.restype = ctypes.c_char_p
lib.d2a_result_free.argtypes = [ctypes.c_void_p]
lib.d2a_options_free.argtypes = [ctypes.c_void_p]
lib.d2a_version.restype = ctypes.c_char_p

options = lib.d2a_options_new()
if lib.d2a_options_set(options, b"output-dir", sys.argv[2].encode()) != 0:
    sys.exit(lib.d2a_options_error(options).decode())
result = lib.d2a_convert(options, sys.argv[3].encode())
error = lib.d2a_result_error(result)
paths = [lib.d2a_result_path(result, i).decode() for i in range(lib.d2a_result_count(result))]
lib.d2a_result_free(result)
lib.d2a_options_free(options)
if error is not None:
    sys.exit("Error: " + error.decode())
print("\n".join(paths))
print("version", lib.d2a_version().decode(), file=sys.stderr)
