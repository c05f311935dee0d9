module athena.invalid/hosts/go

go 1.19
