module example.com/nginxauth

go 1.21
