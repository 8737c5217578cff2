module example.com/echoapi

go 1.19
