module example.invalid/convert

go 1.19
